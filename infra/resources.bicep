// Every resource of Leap Ticketing, in one resource group. The app runs as one user-assigned
// managed identity with the least roles it needs; no key or password reaches an output.

param location string
param tags object
param token string
param principalId string
param principalName string
param principalType string
@description('Where alerts are emailed (empty: no receiver yet)')
param alertEmail string = ''
@secure()
param queueTokenSecret string
@description('Deployment time (the default); dates the expiry of the Key Vault secret')
param deployedAt string = utcNow()

// Resilience (issue 13): see the parameters' descriptions in main.bicep.
param secondaryLocation string = ''
param zoneRedundant bool = true
param serviceBusSku string = 'Standard'
param redisSku string = 'Balanced_B1'
param sqlPitrDays int = 14
param sqlLongTermRetention bool = true
// Issue 16: the HMAC key of ticket codes (kept in Key Vault) and where email data lives.
@secure()
param ticketSigningKey string
param emailDataLocation string = 'Europe'

var multiRegion = !empty(secondaryLocation)
// Geo-disaster recovery needs Premium; active geo-replication needs Balanced_B3 or larger.
var busSku = multiRegion ? 'Premium' : serviceBusSku
var cacheSku = multiRegion && contains(['Balanced_B0', 'Balanced_B1'], redisSku) ? 'Balanced_B3' : redisSku
// What the app connects to: the failover group's listener and the Service Bus alias follow a
// failover, so neither app needs its settings changed when the other region takes over.
var sqlListener = 'fog-leap-${token}'
var busAlias = 'sbalias-leap-${token}'
var sqlHost = multiRegion ? '${sqlListener}${environment().suffixes.sqlServerHostname}' : sql.properties.fullyQualifiedDomainName
var busHost = multiRegion ? '${busAlias}.servicebus.windows.net' : '${bus.name}.servicebus.windows.net'
var cosmosLocations = multiRegion ? [
  { locationName: location, failoverPriority: 0, isZoneRedundant: zoneRedundant }
  { locationName: secondaryLocation, failoverPriority: 1, isZoneRedundant: zoneRedundant }
] : [{ locationName: location, failoverPriority: 0, isZoneRedundant: zoneRedundant }]

var abbrs = {
  identity: 'id-leap-${token}'
  logs: 'log-leap-${token}'
  insights: 'appi-leap-${token}'
  storage: 'stleap${take(token, 16)}'
  plan: 'plan-leap-${token}'
  func: 'func-leap-${token}'
  redis: 'redis-leap-${token}'
  cosmos: 'cosmos-leap-${token}'
  sql: 'sql-leap-${token}'
  bus: 'sb-leap-${token}'
  vault: 'kv-leap-${take(token, 12)}'
  web: 'swa-leap-${token}'
  frontDoor: 'afd-leap-${token}'
  waf: 'wafleap${take(token, 12)}'
  email: 'ecs-leap-${token}'
  communication: 'acs-leap-${token}'
}

// Built-in role definition ids.
var roles = {
  blobOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  queueContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  busSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  busReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  secretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  metricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: abbrs.identity
  location: location
  tags: tags
}

// ---- monitoring -------------------------------------------------------------------------

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: abbrs.logs
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: abbrs.insights
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true // ingestion only with Entra ID (the app's identity)
  }
}

resource insightsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.metricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.metricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- storage for the Functions host and its deployment package ---------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_43:the name is computed (stleap + 16 lowercase alphanumerics), within the rules
  // checkov:skip=CKV_AZURE_206:zone-redundant (ZRS); the host's state needs no second region
  // checkov:skip=CKV_AZURE_35:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  name: abbrs.storage
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identity only
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

// Event images (issue 15): written by the app through the identity's Storage Blob Data
// Owner role below (account scope, so it covers this container), read back through the API.
resource eventImages 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'event-images'
  properties: { publicAccess: 'None' }
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.blobOwner, roles.queueContributor, roles.tableContributor]: {
  name: guid(storage.id, identity.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

// ---- Azure Managed Redis (clustered: every multi-key script stays in one hash slot) -------

resource redis 'Microsoft.Cache/redisEnterprise@2024-09-01-preview' = {
  name: abbrs.redis
  location: location
  tags: tags
  sku: { name: cacheSku }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: 'Enabled' // a replica per shard; spread across zones where the region has them
  }
}

resource redisDb 'Microsoft.Cache/redisEnterprise/databases@2024-09-01-preview' = {
  parent: redis
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted' // TLS only
    port: 10000
    clusteringPolicy: 'OSSCluster'
    evictionPolicy: 'NoEviction' // inventory must never be evicted
    // Active geo-replication excludes persistence: the replica in the other region (and the
    // restore from the ledger, `python -m shared.restore`) take its place.
    persistence: multiRegion ? { aofEnabled: false, rdbEnabled: false } : { aofEnabled: true, aofFrequency: '1s' }
    geoReplication: multiRegion ? {
      groupNickname: 'leap-${token}'
      linkedDatabases: [{ id: resourceId('Microsoft.Cache/redisEnterprise/databases', abbrs.redis, 'default') }]
    } : null
    accessKeysAuthentication: 'Disabled' // Entra ID only (REDIS_ENTRA_ID)
  }
}

resource redisAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2024-09-01-preview' = {
  parent: redisDb
  name: 'app'
  properties: {
    accessPolicyName: 'default'
    user: { objectId: identity.properties.principalId }
  }
}

// ---- Key Vault: for the secrets the app needs (every service uses Entra ID; the waiting
// room's token key is the one secret, read through a Key Vault reference) --

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  // checkov:skip=CKV_AZURE_189:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  name: abbrs.vault
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource queueTokenKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'queue-token-secret'
  properties: {
    value: queueTokenSecret
    contentType: 'text/plain; HMAC-SHA256 key of waiting-room admission tokens'
    // Renewed on every deployment (see main.bicep); a year bounds a forgotten environment.
    attributes: { exp: dateTimeToEpoch(dateTimeAdd(deployedAt, 'P1Y')) }
  }
}

// The ticket-signing key: one value for the life of the shop (rotating it voids every issued
// ticket's code), so it has no expiry; the app reads it through a Key Vault reference.
resource ticketKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41:the ticket-signing key must outlive every ticket it signed; an expiry would void them
  parent: vault
  name: 'ticket-signing-key'
  properties: { value: ticketSigningKey, contentType: 'application/octet-stream; base64' }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.secretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.secretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Cosmos DB: the catalog (Entra ID data-plane access only) -----------------------------

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  // checkov:skip=CKV_AZURE_99:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  // checkov:skip=CKV_AZURE_101:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  name: abbrs.cosmos
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: cosmosLocations
    enableAutomaticFailover: multiRegion // service-managed: the read region becomes the write region
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    // Serverless accounts live in one region; two regions take provisioned autoscale throughput.
    capabilities: multiRegion ? [] : [{ name: 'EnableServerless' }]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } }
  }
}

resource catalogDb 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: cosmos
  name: 'leap'
  properties: {
    resource: { id: 'leap' }
    options: multiRegion ? { autoscaleSettings: { maxThroughput: 1000 } } : {}
  }
}

// Partition keys: /id for both (see shared/adapters/cosmos_catalog.py for the reasons).
resource eventsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = {
  parent: catalogDb
  name: 'events'
  properties: {
    resource: {
      id: 'events'
      partitionKey: { paths: ['/id'], kind: 'Hash' }
      indexingPolicy: {
        indexingMode: 'consistent'
        includedPaths: [{ path: '/*' }]
        excludedPaths: [{ path: '/description/?' }, { path: '/"_etag"/?' }]
        compositeIndexes: [[{ path: '/starts_at', order: 'ascending' }, { path: '/id', order: 'ascending' }]]
      }
    }
  }
}

resource venuesContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = {
  parent: catalogDb
  name: 'venues'
  properties: {
    resource: {
      id: 'venues'
      partitionKey: { paths: ['/id'], kind: 'Hash' }
      indexingPolicy: {
        indexingMode: 'consistent'
        includedPaths: [{ path: '/*' }]
        compositeIndexes: [[{ path: '/name_lc', order: 'ascending' }, { path: '/id', order: 'ascending' }]]
      }
    }
  }
}

resource cosmosContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmos
  name: guid(cosmos.id, identity.id, 'data-contributor')
  properties: {
    // Cosmos DB Built-in Data Contributor, on the catalog database only.
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002'
    principalId: identity.properties.principalId
    scope: '${cosmos.id}/dbs/leap'
  }
}

// ---- Azure SQL: the ledger (Entra-only authentication) -------------------------------------

resource sql 'Microsoft.Sql/servers@2023-08-01-preview' = {
  // checkov:skip=CKV_AZURE_113:Entra-only auth and TLS 1.2 over public endpoints; private endpoints with VNet integration are the planned network hardening (docs/architecture.md)
  // checkov:skip=CKV_AZURE_25:threat detection is the server's securityAlertPolicies below (all types)
  name: abbrs.sql
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
      // azd says ServicePrincipal where Azure SQL says Application.
      principalType: principalType == 'ServicePrincipal' ? 'Application' : principalType
    }
  }
}

resource sqlFromAzure 'Microsoft.Sql/servers/firewallRules@2023-08-01-preview' = {
  parent: sql
  name: 'AllowAzureServices' // the function app and the deploy runner reach it from Azure
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource ledger 'Microsoft.Sql/servers/databases@2023-08-01-preview' = {
  // checkov:skip=CKV_AZURE_229:zone redundancy comes from the zoneRedundant parameter (default true); checkov resolves parameters by name across templates, and which template's zoneRedundant it sees depends on its parse order
  // checkov:skip=CKV_AZURE_26:alerts go to the subscription's Defender security contacts, not a fixed address
  // checkov:skip=CKV_AZURE_27:declared below (ledgerDefender, emailAccountAdmins: true); checkov's Bicep reading misses nested children
  parent: sql
  name: 'leap'
  location: location
  tags: tags
  sku: { name: 'GP_S_Gen5_1', tier: 'GeneralPurpose' }
  properties: {
    // Long-term retention and failover groups keep a serverless database online (no auto-pause).
    autoPauseDelay: multiRegion || sqlLongTermRetention ? -1 : 60
    minCapacity: json('0.5')
    zoneRedundant: zoneRedundant
    // Geo-redundant backup storage: a geo-restore into another region needs no second region set up.
    requestedBackupStorageRedundancy: 'Geo'
  }

  resource ledgerDefender 'securityAlertPolicies' = {
    name: 'Default'
    properties: { state: 'Enabled', emailAccountAdmins: true, disabledAlerts: [], retentionDays: 90 }
  }
}

resource ledgerAudit 'Microsoft.Sql/servers/databases/auditingSettings@2023-08-01-preview' = {
  parent: ledger
  name: 'default'
  properties: { state: 'Enabled', isAzureMonitorTargetEnabled: true, retentionDays: 90 }
}

resource sqlDefender 'Microsoft.Sql/servers/securityAlertPolicies@2023-08-01-preview' = {
  parent: sql
  name: 'Default'
  properties: {
    state: 'Enabled'
    emailAccountAdmins: true
    disabledAlerts: []
    retentionDays: 90
  }
}

resource sqlAudit 'Microsoft.Sql/servers/auditingSettings@2023-08-01-preview' = {
  parent: sql
  name: 'default'
  properties: {
    state: 'Enabled'
    isAzureMonitorTargetEnabled: true
    retentionDays: 90
  }
}

// ---- Service Bus: the payments queue -----------------------------------------------------

resource bus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: abbrs.bus
  location: location
  tags: tags
  // Duplicate detection needs Standard; zones and geo-disaster recovery need Premium.
  sku: busSku == 'Premium' ? { name: 'Premium', tier: 'Premium', capacity: 1 } : { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    zoneRedundant: busSku == 'Premium' && zoneRedundant
  }
}

resource payments 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: bus
  name: 'payments'
  properties: {
    maxDeliveryCount: 10 // MAX_DELIVERY_COUNT of the app
    lockDuration: 'PT1M'
    requiresDuplicateDetection: true // message id = order id
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P1D'
  }
}

resource busRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.busSender, roles.busReceiver]: {
  name: guid(payments.id, identity.id, role)
  scope: payments
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

// ---- the function app (Flex Consumption, Python) -------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:zone redundancy comes from the zoneRedundant parameter (default true); checkov resolves parameters by name across templates, and which template's zoneRedundant it sees depends on its parse order
  name: abbrs.plan
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true, zoneRedundant: zoneRedundant }
}

resource func 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222:Front Door and Static Web Apps reach it over its public endpoint; private networking is the planned hardening
  // checkov:skip=CKV_AZURE_17:callers authenticate with bearer tokens, not client certificates
  // checkov:skip=CKV_AZURE_212:Flex Consumption scales out on demand (maximumInstanceCount); no fixed minimum
  name: abbrs.func
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}deployments'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
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
      cors: { allowedOrigins: ['https://${web.properties.defaultHostname}'] }
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
        { name: 'SERVICEBUS_CONNECTION__fullyQualifiedNamespace', value: busHost }
        { name: 'SERVICEBUS_CONNECTION__credential', value: 'managedidentity' }
        { name: 'SERVICEBUS_CONNECTION__clientId', value: identity.properties.clientId }
        { name: 'BUS_BACKEND', value: 'servicebus' }
        { name: 'PAYMENTS_QUEUE', value: payments.name }
        { name: 'MAX_DELIVERY_COUNT', value: '10' }
        { name: 'REDIS_URL', value: 'rediss://${redis.properties.hostName}:10000/0' }
        { name: 'REDIS_ENTRA_ID', value: 'true' }
        { name: 'REDIS_CLUSTER', value: 'true' }
        { name: 'CATALOG_BACKEND', value: 'cosmos' }
        { name: 'COSMOS_ENDPOINT', value: cosmos.properties.documentEndpoint }
        { name: 'COSMOS_DATABASE', value: 'leap' }
        { name: 'SQL_SERVER', value: sqlHost }
        { name: 'SQL_DATABASE', value: ledger.name }
        { name: 'RECONCILE_SCHEDULE', value: '0 */1 * * * *' }
        { name: 'OUTBOX_RELAY_SCHEDULE', value: '*/5 * * * * *' }
        { name: 'LEAP_DATA_DIR', value: '/tmp/leap' }
        { name: 'SEED_DEMO', value: 'false' }
        { name: 'QUEUE_TOKEN_SECRET', value: '@Microsoft.KeyVault(SecretUri=${queueTokenKey.properties.secretUri})' }
        { name: 'FORWARDED_HOPS', value: '1' }  // the front end appends the client's address
        { name: 'CORS_ORIGINS', value: 'https://${web.properties.defaultHostname}' }
        { name: 'TICKET_SIGNING_KEY', value: '@Microsoft.KeyVault(SecretUri=${ticketKey.properties.secretUri})' }
        { name: 'MAIL_BACKEND', value: 'acs' }
        { name: 'ACS_ENDPOINT', value: 'https://${communication.properties.hostName}' }
        { name: 'MAIL_FROM', value: 'DoNotReply@${emailDomain.properties.mailFromSenderDomain}' }
        { name: 'MAIL_SCHEDULE', value: '*/30 * * * * *' }
        { name: 'PUBLIC_URL', value: 'https://${web.properties.defaultHostname}' }
        { name: 'IMAGE_ACCOUNT_URL', value: storage.properties.primaryEndpoints.blob }
        { name: 'IMAGE_CONTAINER', value: eventImages.name }
      ]
    }
  }
  dependsOn: [storageRoles, busRoles, vaultReader, deployments, redisAccess, eventImages]
}

// ---- Email (issue 16): Azure Communication Services with an Azure-managed sender domain ------

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: abbrs.email
  location: 'global'
  tags: tags
  properties: { dataLocation: emailDataLocation }
}

resource emailDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: { domainManagement: 'AzureManaged', userEngagementTracking: 'Disabled' }
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: abbrs.communication
  location: 'global'
  tags: tags
  properties: { dataLocation: emailDataLocation, linkedDomains: [emailDomain.id] }
}

// Sending with Entra ID needs write on the Communication Services resource; the assignment is
// scoped to that one resource (no access key is ever read).
resource communicationSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communication.id, identity.id, roles.contributor)
  scope: communication
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.contributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- the web app (Static Web Apps, /api linked to the function app) -------------------------

resource web 'Microsoft.Web/staticSites@2023-12-01' = {
  name: abbrs.web
  location: location
  tags: union(tags, { 'azd-service-name': 'web' })
  sku: { name: 'Standard', tier: 'Standard' } // linked backends need Standard
  properties: {
    stagingEnvironmentPolicy: 'Enabled'
  }
}

resource webBackend 'Microsoft.Web/staticSites/linkedBackends@2023-12-01' = {
  parent: web
  name: 'api'
  properties: {
    backendResourceId: func.id
    region: location
  }
}

// ---- Front Door with a WAF in front of both ---------------------------------------------

resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2024-02-01' = {
  name: abbrs.waf
  location: 'Global'
  tags: tags
  sku: { name: 'Premium_AzureFrontDoor' } // managed rule sets need Premium
  properties: {
    policySettings: { enabledState: 'Enabled', mode: 'Prevention', requestBodyCheck: 'Enabled' }
    managedRules: {
      managedRuleSets: [
        { ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1', ruleSetAction: 'Block' }
        { ruleSetType: 'Microsoft_BotManagerRuleSet', ruleSetVersion: '1.1' }
      ]
    }
    customRules: {
      rules: [
        {
          // Per client address: an on-sale's bots hit this before the app's own limits.
          name: 'ApiRateLimit'
          priority: 100
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: 1
          rateLimitThreshold: 600
          action: 'Block'
          matchConditions: [
            { matchVariable: 'RequestUri', operator: 'Contains', matchValue: ['/api/'], transforms: ['Lowercase'] }
          ]
        }
      ]
    }
  }
}

resource frontDoor 'Microsoft.Cdn/profiles@2024-02-01' = {
  name: abbrs.frontDoor
  location: 'global'
  tags: tags
  sku: { name: 'Premium_AzureFrontDoor' }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-02-01' = {
  parent: frontDoor
  name: 'leap-${take(token, 8)}'
  location: 'global'
  properties: { enabledState: 'Enabled' }
}

resource apiOrigins 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = {
  parent: frontDoor
  name: 'api'
  properties: {
    loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 }
    healthProbeSettings: {
      probePath: '/api/health/ready'
      probeProtocol: 'Https'
      probeRequestType: 'GET'
      probeIntervalInSeconds: 30
    }
  }
}

resource apiOrigin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = {
  parent: apiOrigins
  name: 'function-app'
  properties: {
    hostName: func.properties.defaultHostName
    originHostHeader: func.properties.defaultHostName
    httpsPort: 443
    priority: 1
    weight: 1000
    enforceCertificateNameCheck: true
  }
}

resource webOrigins 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = {
  parent: frontDoor
  name: 'web'
  properties: {
    loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 }
    healthProbeSettings: { probePath: '/', probeProtocol: 'Https', probeRequestType: 'HEAD', probeIntervalInSeconds: 60 }
  }
}

resource webOrigin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = {
  parent: webOrigins
  name: 'static-web-app'
  properties: {
    hostName: web.properties.defaultHostname
    originHostHeader: web.properties.defaultHostname
    httpsPort: 443
    priority: 1
    weight: 1000
    enforceCertificateNameCheck: true
  }
}

resource apiRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: endpoint
  name: 'api'
  properties: {
    originGroup: { id: apiOrigins.id }
    patternsToMatch: ['/api/*']
    supportedProtocols: ['Https']
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
  }
  dependsOn: [apiOrigin]
}

resource webRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: endpoint
  name: 'web'
  properties: {
    originGroup: { id: webOrigins.id }
    patternsToMatch: ['/*']
    supportedProtocols: ['Http', 'Https']
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    cacheConfiguration: { queryStringCachingBehavior: 'UseQueryString', compressionSettings: { isCompressionEnabled: true, contentTypesToCompress: ['text/html', 'application/javascript', 'text/css', 'application/json'] } }
  }
  dependsOn: [webOrigin, apiRoute]
}

resource wafLink 'Microsoft.Cdn/profiles/securityPolicies@2024-02-01' = {
  parent: frontDoor
  name: 'waf'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: { id: waf.id }
      associations: [{ domains: [{ id: endpoint.id }], patternsToMatch: ['/*'] }]
    }
  }
}

// ---- backups and the second region (issue 13; docs/operations.md) -------------------------

module ledgerBackups 'modules/sql-backups.bicep' = {
  name: 'leap-ledger-backups'
  params: {
    serverName: sql.name
    databaseName: ledger.name
    pitrDays: sqlPitrDays
    longTermRetention: sqlLongTermRetention
  }
}

module secondary 'modules/secondary-region.bicep' = if (multiRegion) {
  name: 'leap-secondary-region'
  params: {
    location: secondaryLocation
    tags: tags
    token: token
    zoneRedundant: zoneRedundant
    principalId: principalId
    principalName: principalName
    principalType: principalType
    identityId: identity.id
    identityPrincipalId: identity.properties.principalId
    identityClientId: identity.properties.clientId
    insightsConnectionString: insights.properties.ConnectionString
    primarySqlServerName: sql.name
    ledgerName: ledger.name
    sqlListenerName: sqlListener
    primaryBusName: bus.name
    busAlias: busAlias
    queueName: payments.name
    primaryRedisDatabaseId: redisDb.id
    redisSku: cacheSku
    redisGroupNickname: 'leap-${token}'
    cosmosEndpoint: cosmos.properties.documentEndpoint
    queueTokenSecretUri: queueTokenKey.properties.secretUri
    webHostname: web.properties.defaultHostname
    frontDoorName: frontDoor.name
    apiOriginGroupName: apiOrigins.name
    ticketKeySecretUri: ticketKey.properties.secretUri
    acsEndpoint: 'https://${communication.properties.hostName}'
    mailFrom: 'DoNotReply@${emailDomain.properties.mailFromSenderDomain}'
    imagesAccountUrl: storage.properties.primaryEndpoints.blob
    imagesContainer: eventImages.name
  }
  dependsOn: [ledgerBackups, payments, busRoles, apiOrigin]
}

output apiUrl string = 'https://${func.properties.defaultHostName}'
output webUrl string = 'https://${web.properties.defaultHostname}'
output frontDoorUrl string = 'https://${endpoint.properties.hostName}'
output sqlServer string = sqlHost
output sqlDatabase string = ledger.name
output cosmosEndpoint string = cosmos.properties.documentEndpoint
output serviceBusNamespace string = busHost
output secondaryApiUrl string = multiRegion ? secondary.outputs.apiUrl : ''
output secondaryApiName string = multiRegion ? secondary.outputs.apiName : ''
output identityName string = identity.name
output identityClientId string = identity.properties.clientId

// ---- alerts (docs/operations.md) -----------------------------------------------------------

module alerts 'alerts.bicep' = {
  name: 'leap-alerts'
  params: {
    location: location
    tags: tags
    token: token
    receiverEmail: alertEmail
    insightsId: insights.id
    busId: bus.id
    paymentsQueue: payments.name
    readyUrl: 'https://${func.properties.defaultHostName}/api/health/ready'
  }
}
