// Blob Storage for the video archive (Archive:Store=AzureBlob): a StorageV2 account with shared-key access
// off (Entra ID only: the app signs in as its user-assigned identity and hands out user-delegation SAS URLs
// for downloads), a private container, a lifecycle policy that moves old videos to the cool tier (and,
// optionally, deletes them), and the identity's "Storage Blob Data Contributor" and "Storage Blob
// Delegator" roles on the account.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string
param location string
param tags object = {}

@allowed([ 'Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS' ])
param sku string = 'Standard_LRS'

@description('Private blob container holding the videos (Archive:AzureBlob:Container).')
@minLength(3)
@maxLength(63)
param containerName string = 'videos'

@description('Days after a video is written before the lifecycle policy moves it to the cool tier; 0 disables the rule.')
@minValue(0)
param coolAfterDays int = 30

@description('Days after a video is written before the lifecycle policy deletes it; 0 (the default) never deletes: the service keeps videos.')
@minValue(0)
param deleteAfterDays int = 0

@description('Principal (the app\'s managed identity) granted "Storage Blob Data Contributor" and "Storage Blob Delegator" on the account.')
param principalId string

// Built-in roles: "Storage Blob Data Contributor" (read, write, delete blobs) and "Storage Blob Delegator"
// (get a user delegation key, which signs the short-lived read-only SAS URLs of downloads).
var blobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var blobDelegatorRoleId = 'db58b8e5-c6ad-4a2a-8342-4fda2fa5c8c2'

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: sku }
  properties: {
    accessTier: 'Hot'
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    // Entra ID only: no account keys or key-signed SAS to leak. The portal signs in with Entra ID too.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = {
  parent: blobService
  name: containerName
  properties: { publicAccess: 'None' }
}

// Lifecycle rules over the container's block blobs (prefix '<container>/'). Videos are written once, so
// "days after modification" is days since archiving. When both apply to a blob, deletion wins.
var filters = { blobTypes: [ 'blockBlob' ], prefixMatch: [ '${containerName}/' ] }
var lifecycleRules = concat(
  coolAfterDays == 0 ? [] : [
    {
      name: 'videos-to-cool'
      enabled: true
      type: 'Lifecycle'
      definition: {
        filters: filters
        actions: { baseBlob: { tierToCool: { daysAfterModificationGreaterThan: coolAfterDays } } }
      }
    }
  ],
  deleteAfterDays == 0 ? [] : [
    {
      name: 'videos-delete'
      enabled: true
      type: 'Lifecycle'
      definition: {
        filters: filters
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: deleteAfterDays } } }
      }
    }
  ]
)

// A policy needs at least one rule: none when both are 0.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-06-01' = if (!empty(lifecycleRules)) {
  parent: account
  name: 'default'
  properties: { policy: { rules: lifecycleRules } }
}

resource dataContributorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, principalId, blobDataContributorRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource delegatorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, principalId, blobDelegatorRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDelegatorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
// A module that uses these outputs waits for the whole module, role assignments included, so the app
// starts archiving only once its identity may write blobs.
output blobEndpoint string = account.properties.primaryEndpoints.blob
output containerName string = container.name
