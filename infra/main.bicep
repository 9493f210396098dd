// VideoCallbacks on Azure: everything one resource group needs to run the service with several replicas.
// Deploy (see infra/README.md):
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.bicepparam
// Modules: identity -> monitoring, Key Vault -> Service Bus, PostgreSQL, Redis, Storage -> Container Apps.

targetScope = 'resourceGroup'

@description('Base name for the resources (lowercase letters, digits, hyphens); globally unique names add a suffix derived from the resource group.')
@minLength(3)
@maxLength(20)
param name string = 'videocallbacks'

param location string = resourceGroup().location

param tags object = { app: 'videocallbacks' }

// ---- the app ----
@description('Container image, e.g. myregistry.azurecr.io/videocallbacks:1.4.0 (built from the repository\'s Dockerfile).')
param image string

@description('Azure Container Registry in this resource group holding the image; the app identity gets AcrPull on it. Empty for a public image.')
param containerRegistryName string = ''

@description('Callbacks:PublicBaseUrl override, e.g. https://callbacks.example.com with a custom domain. Empty: the app\'s own FQDN.')
param publicBaseUrl string = ''

@description('Replicas always running; two or more so a restart or a crash never leaves callbacks unanswered.')
@minValue(2)
param minReplicas int = 2

@maxValue(300)
param maxReplicas int = 10

@description('Concurrent HTTP requests per replica before another replica is added.')
param concurrentRequests int = 100

// ---- Service Bus ----
@allowed([ 'Standard', 'Premium' ])
param serviceBusSku string = 'Standard'

param topicName string = 'video-extensions'

@description('Duplicate detection window of the topic (ISO 8601): re-sent event ids inside it are dropped by the broker.')
param duplicateDetectionWindow string = 'PT1H'

@description('Tenants (named clients of Auth:Clients:{name}:Keys, or \'default\'): each gets a topic subscription client-<name> filtered on the message property client = \'<name>\'.')
param clientNames string[] = []

// ---- PostgreSQL ----
param postgresAdminLogin string = 'videocallbacks'

@secure()
@minLength(12)
param postgresAdminPassword string

@allowed([ '15', '16', '17' ])
param postgresVersion string = '15'

// ---- secrets for Key Vault ----
@description('Client API key (Auth:ApiKeys:0), 24+ characters.')
@secure()
@minLength(24)
param clientApiKey string

@description('Admin API key (Auth:AdminApiKeys:0), 24+ characters.')
@secure()
@minLength(24)
param adminApiKey string

@secure()
param kieApiKey string = ''
@secure()
param kieWebhookHmacKey string = ''
@secure()
param apiframeApiKey string = ''
@secure()
param nanoGptApiKey string = ''

// ---- Blob Storage (video archive) ----
@allowed([ 'Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS' ])
param storageSku string = 'Standard_LRS'

@description('Private container for the archived videos (Archive:AzureBlob:Container).')
@minLength(3)
@maxLength(63)
param videoContainerName string = 'videos'

@description('Days after archiving before a video moves to the cool tier (lifecycle policy); 0 keeps videos hot.')
@minValue(0)
param coolAfterDays int = 30

@description('Days after archiving before a video is deleted (lifecycle policy); 0 (default) never deletes.')
@minValue(0)
param deleteAfterDays int = 0

@description('Key Vault purge protection (recommended; a purge-protected vault name stays taken for 90 days after deletion).')
param keyVaultPurgeProtection bool = true

var suffix = uniqueString(resourceGroup().id)

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: { name: 'id-${name}', location: location, tags: tags }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${name}-${suffix}'
    appInsightsName: 'appi-${name}-${suffix}'
    location: location
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-${take(name, 7)}-${suffix}' // Key Vault names: at most 24 characters
    location: location
    tags: tags
    readerPrincipalId: identity.outputs.principalId
    enablePurgeProtection: keyVaultPurgeProtection
    clientApiKey: clientApiKey
    adminApiKey: adminApiKey
    kieApiKey: kieApiKey
    kieWebhookHmacKey: kieWebhookHmacKey
    apiframeApiKey: apiframeApiKey
    nanoGptApiKey: nanoGptApiKey
  }
}

module registryPull 'modules/registry-pull.bicep' = if (!empty(containerRegistryName)) {
  name: 'registry-pull'
  params: { registryName: containerRegistryName, principalId: identity.outputs.principalId }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    namespaceName: 'sb-${name}-${suffix}'
    location: location
    tags: tags
    sku: serviceBusSku
    topicName: topicName
    duplicateDetectionWindow: duplicateDetectionWindow
    clientNames: clientNames
    senderPrincipalId: identity.outputs.principalId
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    serverName: 'psql-${name}-${suffix}'
    location: location
    tags: tags
    version: postgresVersion
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    keyVaultName: keyVault.outputs.name
  }
}

module redis 'modules/redis.bicep' = {
  name: 'redis'
  params: {
    name: 'redis-${name}-${suffix}'
    location: location
    tags: tags
    keyVaultName: keyVault.outputs.name
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${take(replace(toLower(name), '-', ''), 9)}${suffix}' // storage account names: 3-24 letters and digits
    location: location
    tags: tags
    sku: storageSku
    containerName: videoContainerName
    coolAfterDays: coolAfterDays
    deleteAfterDays: deleteAfterDays
    principalId: identity.outputs.principalId
  }
}

// App settings (../shared/DESIGN.md, configuration table) whose values live in Key Vault:
// { name: environment variable, secret: Key Vault secret name (also the Container App secret name) }.
var secretSettings = concat(
  [
    { name: 'Auth__ApiKeys__0', secret: 'client-api-key' }
    { name: 'Auth__AdminApiKeys__0', secret: 'admin-api-key' }
    { name: 'Storage__ConnectionString', secret: 'storage-connection-string' }
    { name: 'Cache__Redis__Configuration', secret: 'redis-configuration' }
  ],
  empty(kieApiKey) ? [] : [ { name: 'Providers__Kie__ApiKey', secret: 'kie-api-key' } ],
  empty(kieWebhookHmacKey) ? [] : [ { name: 'Providers__Kie__WebhookHmacKey', secret: 'kie-webhook-hmac-key' } ],
  empty(apiframeApiKey) ? [] : [ { name: 'Providers__Apiframe__ApiKey', secret: 'apiframe-api-key' } ],
  empty(nanoGptApiKey) ? [] : [ { name: 'Providers__NanoGpt__ApiKey', secret: 'nanogpt-api-key' } ]
)

// Plain settings. No Service Bus connection string and no storage key: the SDKs sign in with
// DefaultAzureCredential as the user-assigned identity (AZURE_CLIENT_ID, set by modules/containerapp.bicep),
// which holds "Azure Service Bus Data Sender" on the topic and "Storage Blob Data Contributor" and
// "Storage Blob Delegator" on the storage account (downloads are user-delegation SAS URLs).
var settings = [
  { name: 'ASPNETCORE_ENVIRONMENT', value: 'Production' }
  { name: 'Storage__Provider', value: 'Postgres' }
  { name: 'Bus__Transport', value: 'ServiceBus' }
  { name: 'Bus__ServiceBus__FullyQualifiedNamespace', value: serviceBus.outputs.fullyQualifiedNamespace }
  { name: 'Bus__ServiceBus__Topic', value: serviceBus.outputs.topicName }
  { name: 'Archive__Store', value: 'AzureBlob' }
  { name: 'Archive__AzureBlob__ServiceUri', value: storage.outputs.blobEndpoint }
  { name: 'Archive__AzureBlob__Container', value: storage.outputs.containerName }
  { name: 'Sandbox__Enabled', value: 'false' }
]

module app 'modules/containerapp.bicep' = {
  name: 'containerapp'
  params: {
    environmentName: 'cae-${name}'
    appName: take(name, 32)
    location: location
    tags: tags
    image: image
    registryServer: empty(containerRegistryName) ? '' : registryPull!.outputs.loginServer
    workspaceName: monitoring.outputs.workspaceName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    keyVaultUri: keyVault.outputs.uri
    secretSettings: secretSettings
    settings: settings
    publicBaseUrl: publicBaseUrl
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    concurrentRequests: concurrentRequests
  }
  // The connection-string secrets must exist in Key Vault before a revision references them.
  dependsOn: [ postgres, redis ]
}

@description('Base URL providers call back (Callbacks:PublicBaseUrl); callbacks arrive at <this>/v1/callbacks/...')
output callbackBaseUrl string = app.outputs.callbackBaseUrl
@description('The app\'s FQDN as reported by its ingress.')
output appFqdn string = app.outputs.fqdn
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output topicName string = serviceBus.outputs.topicName
output keyVaultName string = keyVault.outputs.name
output postgresServer string = postgres.outputs.fullyQualifiedDomainName
output storageAccountName string = storage.outputs.name
output archiveBlobEndpoint string = storage.outputs.blobEndpoint
output identityClientId string = identity.outputs.clientId
