// Leap Ticketing on Azure: `azd up` provisions this (subscription scope: it creates the
// resource group) and deploys the function app and the web app into it.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name; names and tags every resource')
param environmentName string

@minLength(1)
@description('Azure region for every resource')
param location string

@description('Object id of the principal that deploys (azd sets it): the Azure SQL Entra admin, which runs migrations')
param principalId string

@description('Display name of that principal, for the Azure SQL Entra admin')
param principalName string = 'leap-deployer'

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'ServicePrincipal'

@description('Email address the alerts go to (docs/operations.md); empty: none yet')
param alertEmail string = ''

var tags = { 'azd-env-name': environmentName, app: 'leap-ticketing' }
var token = toLower(uniqueString(subscription().id, environmentName, location))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'leap-resources'
  scope: rg
  params: {
    location: location
    tags: tags
    token: token
    principalId: principalId
    principalName: principalName
    principalType: principalType
    alertEmail: alertEmail
  }
}

// azd writes these into the environment (`azd env get-values`). None is a secret.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output API_URL string = resources.outputs.apiUrl
output WEB_URL string = resources.outputs.webUrl
output FRONTDOOR_URL string = resources.outputs.frontDoorUrl
output SQL_SERVER string = resources.outputs.sqlServer
output SQL_DATABASE string = resources.outputs.sqlDatabase
output COSMOS_ENDPOINT string = resources.outputs.cosmosEndpoint
output SERVICEBUS_NAMESPACE string = resources.outputs.serviceBusNamespace
output APP_IDENTITY_NAME string = resources.outputs.identityName
output APP_IDENTITY_CLIENT_ID string = resources.outputs.identityClientId
