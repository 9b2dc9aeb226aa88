import type { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';

/**
 * How callbacks reach the service (the template's `FrontDoor`).
 *
 * - `HttpApi`: an API Gateway HTTP API, `$default` stage.
 * - `RestApi`: an API Gateway REST API (regional), stage `prod`.
 * - `FunctionUrl`: a public Lambda Function URL; it serves `/respond` and
 *   sign-in, and CreateUrls is left to direct invokes.
 */
export type FrontDoor = 'HttpApi' | 'RestApi' | 'FunctionUrl';

/**
 * How links are sealed (the template's `KeyMode`).
 *
 * - `kms`: a keyring encrypted under the KMS key (the `keyring` prop),
 *   opened once at start: the shortest links, no KMS call per link.
 * - `kms-envelope`: a KMS data key carried in each link; needs no keyring.
 */
export type KeyMode = 'kms' | 'kms-envelope';

/** Email notifications through Amazon SES (`notify.email` of CreateUrls). */
export interface EmailNotifyOptions {
  /**
   * The SES identity (a verified domain or address) CreateUrls may send
   * from. Both functions get `ses:SendEmail` on this identity only.
   */
  readonly sesIdentity: string;
  /**
   * Senders callers may use (`NOTIFY_EMAIL_FROM`): addresses, or `@domain`
   * for any address there; the first address is the default. They must
   * belong to `sesIdentity`. At least one.
   */
  readonly from: string[];
  /**
   * Recipient domains callers may mail (`NOTIFY_EMAIL_TO_DOMAINS`), or
   * `['*']` for any. At least one.
   */
  readonly toDomains: string[];
}

/** Which channels CreateUrls' `notify` may use, and where to. */
export interface NotifyOptions {
  /**
   * Email through SES.
   *
   * @default - no email notifications
   */
  readonly email?: EmailNotifyOptions;
  /**
   * SNS topics CreateUrls may publish to (`NOTIFY_SNS_TOPICS`). Both
   * functions get `sns:Publish` on these topics only.
   *
   * @default - no SNS notifications
   */
  readonly snsTopics?: sns.ITopic[];
  /**
   * Teams Workflows webhook URL prefixes CreateUrls may post cards to
   * (`NOTIFY_TEAMS_WEBHOOKS`), for example
   * `https://*.environment.api.powerplatform.com/powerautomate/` (the host
   * may start with `*.`).
   *
   * @default - no Teams cards
   */
  readonly teamsWebhooks?: string[];
}

/**
 * A Slack app: buttons in a channel.
 *
 * Secrets are `SecretValue`s that render as CloudFormation dynamic
 * references, for example `SecretValue.secretsManager('slack', { jsonField:
 * 'botToken' })` or `secret.secretValueFromJson('botToken')`: the deployer
 * resolves them at deploy time, the functions need no
 * `secretsmanager:GetSecretValue`, and a rotated secret takes effect at the
 * next deployment. A plain-text value (`SecretValue.unsafePlainText`) and
 * `SecretValue.ssmSecure` (not supported in Lambda environment variables)
 * are refused at synth time.
 */
export interface SlackOptions {
  /**
   * The bot token (`xoxb-…`, `SLACK_BOT_TOKEN`). Both functions get it:
   * CreateUrls posts the message, the callback function opens modals and
   * reads who pressed.
   */
  readonly botToken: SecretValue;
  /**
   * The app's signing secret (`SLACK_SIGNING_SECRET`); only the callback
   * function gets it, to check that each press came from Slack.
   */
  readonly signingSecret: SecretValue;
  /**
   * Channel IDs CreateUrls may post to (`NOTIFY_SLACK_CHANNELS`): `C…`, or
   * `*` for any the bot is in.
   *
   * @default - no Slack messages (the callback route still checks presses)
   */
  readonly channels?: string[];
}

/** Sign-in of verified approvers through an OpenID Provider. */
export interface OidcOptions {
  /**
   * The OpenID Provider (`OIDC_ISSUER`): an `https` issuer URL, as its
   * `/.well-known/openid-configuration` names it. Both functions get it;
   * register the `RedirectUri` output at the provider.
   */
  readonly issuer: string;
  /** The client id registered at the provider (`OIDC_CLIENT_ID`). */
  readonly clientId: string;
  /**
   * The client secret (`OIDC_CLIENT_SECRET`), a `SecretValue` that renders
   * a dynamic reference, e.g. `SecretValue.secretsManager('oidc', {
   * jsonField: 'clientSecret' })`. Plain text is refused (see
   * {@link SlackOptions}). Only the callback function gets it.
   */
  readonly clientSecret: SecretValue;
  /**
   * Space-separated scopes to ask for (`OIDC_SCOPES`); must include
   * `openid`.
   *
   * @default 'openid email profile'
   */
  readonly scopes?: string;
  /**
   * The ID token claim that lists the approver's groups
   * (`OIDC_GROUPS_CLAIM`), e.g. `cognito:groups`.
   *
   * @default 'groups'
   */
  readonly groupsClaim?: string;
  /**
   * How long a sign-in lasts (`SESSION_TTL`): `8h`, `90m`, `3600s` or bare
   * seconds, from a minute to 24 hours.
   *
   * @default '8h'
   */
  readonly sessionTtl?: string;
}

/** Alarms and the dashboard. */
export interface MonitoringOptions {
  /**
   * The topic every alarm notifies, on alarm and on recovery.
   *
   * @default - no alarms
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm when this many clicks or webhooks in 5 minutes found Step
   * Functions, Lambda or KMS unavailable. At least 1.
   *
   * @default 5
   */
  readonly unavailableThreshold?: number;
  /**
   * Alarm when more than this percentage of the callback function's
   * invocations in 5 minutes ended in a function error (1 to 100).
   *
   * @default 5
   */
  readonly errorRatePercent?: number;
  /**
   * A CloudWatch dashboard named after the deployment, with every metric.
   *
   * @default true
   */
  readonly dashboard?: boolean;
}

/** Properties of {@link SfnCallbacks}. */
export interface SfnCallbacksProps extends MonitoringOptions {
  /**
   * The Lambda package holding the `bootstrap` binary, for example
   * `lambda.Code.fromAsset('target/lambda/sfn-callbacks')` after
   * `cargo lambda build --release --arm64`. Both functions run it.
   */
  readonly code: lambda.Code;
  /**
   * The architecture `code` was built for.
   *
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * The name of this deployment: the API's name, the functions' names
   * (`<name>-callbacks`, `<name>-create-urls`), their log groups
   * (`/aws/lambda/<name>-…`), the alarms and dashboard, and the
   * `deployment` dimension of every metric (`METRICS_DEPLOYMENT`). Letters,
   * digits, `-` and `_`, at most 52 characters. Set it to deploy two in one
   * stack.
   *
   * @default - the stack name, as infra/template.yaml
   */
  readonly name?: string;
  /**
   * How callbacks reach the service.
   *
   * @default 'HttpApi'
   */
  readonly frontDoor?: FrontDoor;
  /**
   * Serve `POST /urls` (IAM-authorised) on the front door
   * (`CREATE_URLS_OVER_HTTP`). Not with `FunctionUrl`, which is public.
   * `false` with an API leaves out the route and its grant.
   *
   * @default - true for `HttpApi` and `RestApi`, false for `FunctionUrl`
   */
  readonly createUrlsOverHttp?: boolean;
  /**
   * Public base URL of the links (a custom domain, `https`, no trailing
   * slash), `BASE_URL` of both functions.
   *
   * @default - the callback function derives it from each request; direct
   * invokes use the front door's URL
   */
  readonly baseUrl?: string;
  /**
   * How links are sealed.
   *
   * @default 'kms-envelope'
   */
  readonly keyMode?: KeyMode;
  /**
   * Bring your own KMS key. Both functions get `kms:Decrypt` and
   * `kms:GenerateDataKey` on it, nothing else.
   *
   * @default - a key is created, with rotation, and retained on deletion
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * For `keyMode: 'kms'` (required there): the output of
   * `sfn-callbacks keygen --kms-key-id <Key output> --stdout`, a keyring
   * encrypted under the key (`KEYRING`). With a created key: deploy in
   * `kms-envelope` mode first, run keygen against the `Key` output, then
   * redeploy with `keyMode: 'kms'` and this keyring.
   *
   * The keyring is ciphertext, encrypted under the KMS key, so it is not a
   * secret as such; but a plain string appears in the synthesized template
   * and the functions' configuration (the SAM template's `Keyring` is
   * `NoEcho`). To keep it out of the template, pass a token instead, e.g.
   * `new CfnParameter(this, 'Keyring', { noEcho: true }).valueAsString`;
   * a token is passed as is (it must not resolve to an empty string). An
   * empty string is no keyring.
   *
   * @default - none
   */
  readonly keyring?: string;
  /**
   * Unqualified Lambda durable functions whose callbacks the links may
   * answer: `IFunction`s or ARNs
   * (`arn:aws:lambda:region:account:function:name`). The callback function
   * gets `lambda:SendDurableExecutionCallback{Success,Failure,Heartbeat}`
   * on each and its versions and aliases (`ARN:*`).
   *
   * @default - none, and no grant
   */
  readonly durableFunctions?: (lambda.IFunction | string)[];
  /**
   * Allow output parameters (`ENABLE_OUTPUT_PARAMETERS`).
   *
   * @default false
   */
  readonly enableOutputParameters?: boolean;
  /**
   * Allow POST actions (`ENABLE_POST_ACTIONS`).
   *
   * @default false
   */
  readonly enablePostActions?: boolean;
  /**
   * Act on GET, as sfn-callback-urls did (`GET_ACTS`; mail scanners will
   * click).
   *
   * @default false
   */
  readonly getActs?: boolean;
  /**
   * Before a GET shows a success or failure link's page, ask the engine
   * with a heartbeat whether the task is still open (`GET_PROBE`).
   *
   * @default true
   */
  readonly getProbe?: boolean;
  /**
   * Debug logs (`RUST_LOG=debug` instead of `info`).
   *
   * @default false
   */
  readonly verboseLogging?: boolean;
  /**
   * The channels CreateUrls' `notify` may use.
   *
   * @default - none
   */
  readonly notify?: NotifyOptions;
  /**
   * A Slack app.
   *
   * @default - no Slack
   */
  readonly slack?: SlackOptions;
  /**
   * Sign-in of verified approvers.
   *
   * @default - no sign-in; links cannot be bound to approvers
   */
  readonly oidc?: OidcOptions;
  /**
   * Retention of the two functions' log groups.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups when they leave the stack.
   *
   * @default RemovalPolicy.DESTROY, as infra/template.yaml
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Add the template's stack outputs (`Api`, `RedirectUri` with sign-in,
   * `Function`, `Policy`, `Dashboard` with the dashboard, `Key`). They are
   * scoped under this construct's id.
   *
   * @default true
   */
  readonly outputs?: boolean;
}
