// The provider type table (type → credential variables, allowed hosts, agent commands) lives
// in @openshell/policy-schema so the gateway, which decides where a stored credential may be
// swapped in, and the CLI, which collects credentials, read one source of truth.
export {
  PROVIDER_TYPES,
  findProviderType,
  findProviderTypeForCommand,
  checkProviderHost,
  isCredentialKey,
  type ProviderType,
  type ProviderTypeInfo,
} from '@openshell/policy-schema';
