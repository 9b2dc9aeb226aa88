/**
 * sfn-callbacks as an AWS CDK v2 construct: what infra/template.yaml
 * deploys, as `new SfnCallbacks(scope, id, props)`.
 */
export { SfnCallbacks } from './sfn-callbacks';
export type {
  EmailNotifyOptions,
  FrontDoor,
  KeyMode,
  MonitoringOptions,
  NotifyOptions,
  OidcOptions,
  SfnCallbacksProps,
  SlackOptions,
} from './props';
export type { ApprovalTaskProps, ApprovalTaskStateProps, CallbackAction } from './approval';
export { CallbackFrontDoor, REST_STAGE } from './front-door';
export { Monitoring, NAMESPACE } from './monitoring';
