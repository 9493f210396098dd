// Azure Cache for Redis: shared cache, rate-limit store and cross-instance wake-up for the replicas.
// Never the source of truth (the database decides every duplicate and state change). Its
// StackExchange.Redis configuration string goes to Key Vault as 'redis-configuration'.

param name string
param location string
param tags object = {}

@description('Standard: replicated with an SLA. Basic: a single node, for trials only.')
@allowed([ 'Basic', 'Standard', 'Premium' ])
param skuName string = 'Standard'
@allowed([ 0, 1, 2, 3, 4, 5, 6 ])
param capacity int = 1

@description('Key Vault (same resource group) that receives the configuration string.')
param keyVaultName string

resource redis 'Microsoft.Cache/redis@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: { name: skuName, family: skuName == 'Premium' ? 'P' : 'C', capacity: capacity }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    redisConfiguration: {}
  }
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource configuration 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: 'redis-configuration'
  properties: {
    contentType: 'Cache:Redis:Configuration'
    // abortConnect=False: start and keep serving while Redis is unreachable (it is only an accelerator).
    value: '${redis.properties.hostName}:${redis.properties.sslPort},password=${redis.listKeys().primaryKey},ssl=True,abortConnect=False'
  }
}

output name string = redis.name
output hostName string = redis.properties.hostName
