/**
 * The `vibestack.conformance.v1` messages (generated from `proto/vibestack/conformance/v1/`): the adapter
 * protocol, the canonical state dump, fixtures and suites. Kept out of `@vibestack/proto`'s index, which the
 * Worker bundles.
 */

export * from '../../gen/src/gen/vibestack/conformance/v1/adapter_pb.ts';
export * from '../../gen/src/gen/vibestack/conformance/v1/fixture_pb.ts';
export * from '../../gen/src/gen/vibestack/conformance/v1/state_pb.ts';
export * from '../../gen/src/gen/vibestack/conformance/v1/suite_pb.ts';
