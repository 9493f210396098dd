// Key Vault holding every secret the app reads: the client/admin API keys and the provider keys
// (from deployment parameters), plus the PostgreSQL and Redis connection strings that their own
// modules write here. RBAC mode: the app identity gets "Key Vault Secrets User" (read secret values);
// the Container App references the secrets by URL and resolves them with that identity.

param name string
param location string
param tags object = {}

@description('Principal (the app\'s managed identity) granted "Key Vault Secrets User" on this vault.')
param readerPrincipalId string

@description('Keep deleted vaults/secrets unpurgeable for the retention period. Cannot be turned off once on.')
param enablePurgeProtection bool = true

@secure()
param clientApiKey string
@secure()
param adminApiKey string
@secure()
param kieApiKey string = ''
@secure()
param kieWebhookHmacKey string = ''
@secure()
param apiframeApiKey string = ''
@secure()
param nanoGptApiKey string = ''

// Built-in role "Key Vault Secrets User".
var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // The service rejects an explicit false: leave it unset to keep it off.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

resource readerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, readerPrincipalId, secretsUserRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource clientApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: 'client-api-key'
  properties: { value: clientApiKey, contentType: 'Auth:ApiKeys:0' }
}

resource adminApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: 'admin-api-key'
  properties: { value: adminApiKey, contentType: 'Auth:AdminApiKeys:0' }
}

// Provider keys are optional (a provider without a key is simply not usable); only given ones are stored.
resource kieApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(kieApiKey)) {
  parent: vault
  name: 'kie-api-key'
  properties: { value: kieApiKey, contentType: 'Providers:Kie:ApiKey' }
}

resource kieHmacSecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(kieWebhookHmacKey)) {
  parent: vault
  name: 'kie-webhook-hmac-key'
  properties: { value: kieWebhookHmacKey, contentType: 'Providers:Kie:WebhookHmacKey' }
}

resource apiframeApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(apiframeApiKey)) {
  parent: vault
  name: 'apiframe-api-key'
  properties: { value: apiframeApiKey, contentType: 'Providers:Apiframe:ApiKey' }
}

resource nanoGptApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(nanoGptApiKey)) {
  parent: vault
  name: 'nanogpt-api-key'
  properties: { value: nanoGptApiKey, contentType: 'Providers:NanoGpt:ApiKey' }
}

output name string = vault.name
// A module that uses this output waits for the whole module, role assignment included, so the app
// references the secrets only once its identity may read them.
output uri string = vault.properties.vaultUri
