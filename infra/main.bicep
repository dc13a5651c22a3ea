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

// ---- resilience (issue 13; docs/operations.md has the failover runbook) ----------------

@description('''Second Azure region (e.g. "northeurope"); empty (the default) deploys one region.
Set, it adds: a Cosmos DB read region with service-managed failover, an Azure SQL failover group
(the app connects through its listener), a Premium Service Bus namespace paired by geo-disaster
recovery, an Azure Managed Redis geo-replica, a second (passive) function app, and that app as
Front Door's priority-2 origin. Cost: roughly doubles the bill, plus the tier changes each needs
(Cosmos DB provisioned autoscale instead of serverless, Service Bus Premium, Redis Balanced_B3 or
larger); see docs/operations.md.''')
param secondaryLocation string = ''

@description('''Spread every service across availability zones where the region and tier offer it
(Azure SQL, Cosmos DB, Managed Redis, Service Bus Premium, the Flex Consumption plan). Cost: Azure
SQL General Purpose zone redundancy is billed extra per vCore; Flex Consumption keeps at least two
always-ready instances per function group, billed as such; Cosmos DB bills zone-redundant regions at
a higher request-unit rate; Redis (high availability, already on) and Service Bus Premium add no
zone charge. Creation-only for Cosmos DB locations and Service Bus namespaces: one created without
zones keeps that setting (docs/operations.md).''')
param zoneRedundant bool = true

@allowed(['Standard', 'Premium'])
@description('Service Bus tier. Premium (about 20x the Standard price per month) is what offers zones and geo-disaster recovery; a second region forces it.')
param serviceBusSku string = 'Standard'

@description('Azure Managed Redis SKU. Active geo-replication needs Balanced_B3 or larger: a second region raises B0/B1 to B3.')
param redisSku string = 'Balanced_B1'

@minValue(7)
@maxValue(35)
@description('Azure SQL point-in-time restore window (days). Cost: backup storage beyond the database size.')
param sqlPitrDays int = 14

@description('''Azure SQL long-term retention: weekly backups kept 5 weeks, monthly 12 months, the
first of each year 5 years. Cost: LTR backup storage, and serverless auto-pause is disabled while LTR
(or a failover group) is configured, so the database bills its minimum vCores around the clock.''')
param sqlLongTermRetention bool = true

@secure()
@description('HMAC key of the waiting room\'s admission tokens, kept in Key Vault. A fresh one per deployment is harmless: an admitted visitor\'s window lives in Redis, and the waiting page fetches a token signed with the new key.')
param queueTokenSecret string = newGuid() // checkov:skip=CKV_AZURE_131:newGuid() is generated at each deployment, not a hardcoded value

var tags = { 'azd-env-name': environmentName, app: 'leap-ticketing' }
var token = toLower(uniqueString(subscription().id, environmentName, location))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

@secure()
@description('HMAC key of ticket codes, base64 of 32+ random bytes (`openssl rand -base64 32`). Stored in Key Vault; keep it the same on every deployment, or issued tickets stop scanning.')
param ticketSigningKey string

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
    secondaryLocation: secondaryLocation
    zoneRedundant: zoneRedundant
    serviceBusSku: serviceBusSku
    redisSku: redisSku
    sqlPitrDays: sqlPitrDays
    sqlLongTermRetention: sqlLongTermRetention
    queueTokenSecret: queueTokenSecret
    alertEmail: alertEmail
    ticketSigningKey: ticketSigningKey
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
output SECONDARY_LOCATION string = secondaryLocation
output SECONDARY_API_URL string = resources.outputs.secondaryApiUrl
output SECONDARY_API_NAME string = resources.outputs.secondaryApiName
output APP_IDENTITY_NAME string = resources.outputs.identityName
output APP_IDENTITY_CLIENT_ID string = resources.outputs.identityClientId
