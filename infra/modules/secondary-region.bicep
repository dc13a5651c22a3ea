// The second region (deployed only when main.bicep's secondaryLocation is set): the partners of
// the primary region's stateful services, and a passive copy of the function app behind Front
// Door. Active-passive for writes: the secondary app's payment consumers and reconciler stay
// disabled until the failover runbook (docs/operations.md) turns them on, so one region at a
// time takes holds and settles orders (docs/architecture.md, "Regions and consistency").

@description('The second region')
param location string
param tags object
param token string
param zoneRedundant bool
param principalId string
param principalName string
param principalType string

@description('The app identity (user-assigned, shared by both regions)')
param identityId string
param identityPrincipalId string
param identityClientId string
param insightsConnectionString string

@description('Primary region resources this module pairs with (same resource group)')
param primarySqlServerName string
param ledgerName string
param sqlListenerName string
param primaryBusName string
param busAlias string
param queueName string
param primaryRedisDatabaseId string
param redisSku string
param redisGroupNickname string
param cosmosEndpoint string
@description('Key Vault secret URI of the admission-token key (the primary\'s vault; Key Vault replicates to the paired region itself)')
param queueTokenSecretUri string
param webHostname string
param frontDoorName string
param apiOriginGroupName string
// Issue 16: the primary's ticket-key secret and email sender (global resources).
param ticketKeySecretUri string
param acsEndpoint string
param mailFrom string
@description('Event images: the primary region\'s blob endpoint and container (one copy, ZRS).')
param imagesAccountUrl string
param imagesContainer string

@description('Whether this region consumes payments and runs the reconciler (false: passive)')
param active bool = false

var names = {
  sql: 'sql-leap-${token}-2'
  bus: 'sb-leap-${token}-2'
  redis: 'redis-leap-${token}-2'
  storage: 'stleap2${take(token, 15)}'
  plan: 'plan-leap-${token}-2'
  func: 'func-leap-${token}-2'
}

var roles = {
  blobOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  queueContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  busSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  busReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
}

// ---- Azure SQL: the partner server and the failover group ---------------------------------

resource partnerSql 'Microsoft.Sql/servers@2023-08-01-preview' = {
  // checkov:skip=CKV_AZURE_113:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  // checkov:skip=CKV_AZURE_25:threat detection is the server's securityAlertPolicies below (all types)
  name: names.sql
  location: location
  tags: tags
  properties: {
    minimalTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    administrators: {
      administratorType: 'ActiveDirectory'
      azureADOnlyAuthentication: true
      login: principalName
      sid: principalId
      tenantId: subscription().tenantId
      principalType: principalType == 'ServicePrincipal' ? 'Application' : principalType
    }
  }
}

resource partnerSqlFromAzure 'Microsoft.Sql/servers/firewallRules@2023-08-01-preview' = {
  parent: partnerSql
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource partnerSqlDefender 'Microsoft.Sql/servers/securityAlertPolicies@2023-08-01-preview' = {
  parent: partnerSql
  name: 'Default'
  properties: { state: 'Enabled', emailAccountAdmins: true, disabledAlerts: [], retentionDays: 90 }
}

resource partnerSqlAudit 'Microsoft.Sql/servers/auditingSettings@2023-08-01-preview' = {
  parent: partnerSql
  name: 'default'
  properties: { state: 'Enabled', isAzureMonitorTargetEnabled: true, retentionDays: 90 }
}

// The group seeds the geo-secondary of the ledger on the partner server. Customer-managed
// failover ('Manual'): the runbook decides, because Service Bus and the app's consumers move
// with it. The listener name (<group>.database.windows.net) follows the primary.
resource failoverGroup 'Microsoft.Sql/servers/failoverGroups@2023-08-01-preview' = {
  name: '${primarySqlServerName}/${sqlListenerName}' // a child of the primary server
  properties: {
    readWriteEndpoint: { failoverPolicy: 'Manual' }
    readOnlyEndpoint: { failoverPolicy: 'Disabled' }
    partnerServers: [{ id: partnerSql.id }]
    databases: [resourceId('Microsoft.Sql/servers/databases', primarySqlServerName, ledgerName)]
  }
  dependsOn: [partnerSqlFromAzure]
}

// ---- Service Bus: the paired namespace (geo-disaster recovery) ---------------------------

resource bus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: names.bus
  location: location
  tags: tags
  sku: { name: 'Premium', tier: 'Premium', capacity: 1 }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    zoneRedundant: zoneRedundant
  }
}

// The alias replicates entities (the payments queue and its settings), not messages: messages
// queued in the primary namespace when it fails stay there until it comes back (see runbook).
resource busPairing 'Microsoft.ServiceBus/namespaces/disasterRecoveryConfigs@2022-10-01-preview' = {
  name: '${primaryBusName}/${busAlias}' // on the primary namespace
  properties: { partnerNamespace: bus.id }
}

// Namespace scope: the queue in this namespace is created by the pairing, not by this template.
resource busRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.busSender, roles.busReceiver]: {
  name: guid(bus.id, identityId, role)
  scope: bus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

// ---- Azure Managed Redis: the geo-replica (active geo-replication) ------------------------

resource redis 'Microsoft.Cache/redisEnterprise@2024-09-01-preview' = {
  name: names.redis
  location: location
  tags: tags
  sku: { name: redisSku }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: 'Enabled'
  }
}

// Same settings as the primary database: a geo-replication group requires them equal.
resource redisDb 'Microsoft.Cache/redisEnterprise/databases@2024-09-01-preview' = {
  parent: redis
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    clusteringPolicy: 'OSSCluster'
    evictionPolicy: 'NoEviction'
    accessKeysAuthentication: 'Disabled'
    geoReplication: {
      groupNickname: redisGroupNickname
      linkedDatabases: [
        { id: primaryRedisDatabaseId }
        { id: resourceId('Microsoft.Cache/redisEnterprise/databases', names.redis, 'default') }
      ]
    }
  }
}

resource redisAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2024-09-01-preview' = {
  parent: redisDb
  name: 'app'
  properties: {
    accessPolicyName: 'default'
    user: { objectId: identityPrincipalId }
  }
}

// ---- the function app's host storage and the app itself ----------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_43:the name is computed (stleap2 + 15 lowercase alphanumerics), within the rules
  // checkov:skip=CKV_AZURE_206:zone-redundant (ZRS); the host's state is per region by design
  // checkov:skip=CKV_AZURE_35:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  name: names.storage
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'deployments'
  properties: { publicAccess: 'None' }
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.blobOwner, roles.queueContributor, roles.tableContributor]: {
  name: guid(storage.id, identityId, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:zone redundancy comes from the zoneRedundant parameter (default true); checkov resolves parameters by name across templates, and which template's zoneRedundant it sees depends on its parse order
  name: names.plan
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true, zoneRedundant: zoneRedundant }
}

// The same settings as the primary app (tests/unit/test_infra.py checks that none is missing)
// except its own Redis and storage, and its triggers off while the region is passive.
resource func 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222:Front Door reaches it over its public endpoint; private networking is the planned hardening
  // checkov:skip=CKV_AZURE_17:callers authenticate with bearer tokens, not client certificates
  // checkov:skip=CKV_AZURE_212:Flex Consumption scales out on demand (maximumInstanceCount); no fixed minimum
  name: names.func
  location: location
  tags: union(tags, { 'leap-region': 'secondary' }) // not azd's: the deploy workflow ships the same package here
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}deployments'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 100, instanceMemoryMB: 2048 }
      runtime: { name: 'python', version: '3.11' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      healthCheckPath: '/api/health/ready'
      cors: { allowedOrigins: ['https://${webHostname}'] }
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'AZURE_CLIENT_ID', value: identityClientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        { name: 'SERVICEBUS_CONNECTION__fullyQualifiedNamespace', value: '${busAlias}.servicebus.windows.net' }
        { name: 'SERVICEBUS_CONNECTION__credential', value: 'managedidentity' }
        { name: 'SERVICEBUS_CONNECTION__clientId', value: identityClientId }
        { name: 'BUS_BACKEND', value: 'servicebus' }
        { name: 'PAYMENTS_QUEUE', value: queueName }
        { name: 'MAX_DELIVERY_COUNT', value: '10' }
        { name: 'REDIS_URL', value: 'rediss://${redis.properties.hostName}:10000/0' }
        { name: 'REDIS_ENTRA_ID', value: 'true' }
        { name: 'REDIS_CLUSTER', value: 'true' }
        { name: 'CATALOG_BACKEND', value: 'cosmos' }
        { name: 'COSMOS_ENDPOINT', value: cosmosEndpoint }
        { name: 'COSMOS_DATABASE', value: 'leap' }
        { name: 'SQL_SERVER', value: '${sqlListenerName}${environment().suffixes.sqlServerHostname}' }
        { name: 'SQL_DATABASE', value: ledgerName }
        { name: 'RECONCILE_SCHEDULE', value: '0 */1 * * * *' }
        { name: 'OUTBOX_RELAY_SCHEDULE', value: '*/5 * * * * *' }
        { name: 'LEAP_DATA_DIR', value: '/tmp/leap' }
        { name: 'SEED_DEMO', value: 'false' }
        { name: 'FORWARDED_HOPS', value: '1' }  // the front end appends the client's address
        { name: 'CORS_ORIGINS', value: 'https://${webHostname}' }
        { name: 'QUEUE_TOKEN_SECRET', value: '@Microsoft.KeyVault(SecretUri=${queueTokenSecretUri})' }
        { name: 'TICKET_SIGNING_KEY', value: '@Microsoft.KeyVault(SecretUri=${ticketKeySecretUri})' }
        { name: 'MAIL_BACKEND', value: 'acs' }
        { name: 'ACS_ENDPOINT', value: acsEndpoint }
        { name: 'MAIL_FROM', value: mailFrom }
        { name: 'MAIL_SCHEDULE', value: '*/30 * * * * *' }
        { name: 'PUBLIC_URL', value: 'https://${webHostname}' }
        { name: 'IMAGE_ACCOUNT_URL', value: imagesAccountUrl }
        { name: 'IMAGE_CONTAINER', value: imagesContainer }
        // Passive: the API answers (Front Door's probe, and traffic if the primary fails), but
        // payments and the reconciler wait for the runbook to make this region the active one.
        { name: 'AzureWebJobs.payments.Disabled', value: string(!active) }
        { name: 'AzureWebJobs.payments_deadletter.Disabled', value: string(!active) }
        { name: 'AzureWebJobs.reconcile.Disabled', value: string(!active) }
        { name: 'AzureWebJobs.outbox_relay.Disabled', value: string(!active) }
        { name: 'AzureWebJobs.send_emails.Disabled', value: string(!active) }
      ]
    }
  }
  dependsOn: [storageRoles, busRoles, deployments, redisAccess, failoverGroup, busPairing]
}

// ---- Front Door: this app as the API's second origin -------------------------------------

// Priority 2: Front Door sends API traffic here only while the primary origin fails the
// group's /api/health/ready probe (Redis, SQL and the queue all reachable).
resource apiOrigin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = {
  name: '${frontDoorName}/${apiOriginGroupName}/function-app-secondary'
  properties: {
    hostName: func.properties.defaultHostName
    originHostHeader: func.properties.defaultHostName
    httpsPort: 443
    priority: 2
    weight: 1000
    enforceCertificateNameCheck: true
  }
}

output apiUrl string = 'https://${func.properties.defaultHostName}'
output apiName string = func.name
output sqlServerName string = partnerSql.name
output serviceBusNamespace string = bus.name
output redisHost string = redis.properties.hostName
