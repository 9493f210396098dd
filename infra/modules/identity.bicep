// The app's user-assigned managed identity: one principal for Service Bus (send), Key Vault (read secrets)
// and, optionally, the container registry. User-assigned, so role assignments exist before the app does.

param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
output name string = identity.name
