// Azure Database for PostgreSQL flexible server: the service's only source of truth, shared by every
// replica (outbox claims with FOR UPDATE SKIP LOCKED, migrations under an advisory lock). Its ADO.NET
// connection string goes to Key Vault as 'storage-connection-string'.

param serverName string
param location string
param tags object = {}

param databaseName string = 'videocallbacks'

@description('The PostgreSQL major version. CI runs the test suite against PostgreSQL 15.')
@allowed([ '15', '16', '17' ])
param version string = '15'

param skuName string = 'Standard_B2s'
@allowed([ 'Burstable', 'GeneralPurpose', 'MemoryOptimized' ])
param skuTier string = 'Burstable'
param storageSizeGB int = 32

param administratorLogin string
@secure()
param administratorLoginPassword string

@description('Key Vault (same resource group) that receives the connection string.')
param keyVaultName string

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: serverName
  location: location
  tags: tags
  sku: { name: skuName, tier: skuTier }
  properties: {
    version: version
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorLoginPassword
    storage: { storageSizeGB: storageSizeGB, autoGrow: 'Enabled' }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
    authConfig: { passwordAuth: 'Enabled', activeDirectoryAuth: 'Disabled' }
    network: { publicNetworkAccess: 'Enabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = {
  parent: server
  name: databaseName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// 0.0.0.0 - 0.0.0.0 is the documented "allow Azure services" rule: the Container Apps outbound addresses
// are not fixed on the consumption plan. Use VNet integration and private access for a closed network.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource connectionString 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: 'storage-connection-string'
  properties: {
    contentType: 'Storage:ConnectionString'
    value: 'Host=${server.properties.fullyQualifiedDomainName};Port=5432;Database=${database.name};Username=${administratorLogin};Password=${administratorLoginPassword};SSL Mode=Require'
  }
}

output serverName string = server.name
output fullyQualifiedDomainName string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
