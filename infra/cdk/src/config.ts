import { RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import type {
  EmailNotifyOptions,
  FrontDoor,
  KeyMode,
  OidcOptions,
  SfnCallbacksProps,
  SlackOptions,
} from './props';

/** Sign-in settings with their defaults applied. */
export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** The secret's token: renders a dynamic reference. */
  readonly clientSecret: string;
  readonly scopes: string;
  readonly groupsClaim: string;
  readonly sessionTtl: string;
}

/** Slack settings, the secrets as their tokens. */
export interface SlackConfig {
  readonly botToken: string;
  readonly signingSecret: string;
  readonly channels: string[];
}

/**
 * {@link SfnCallbacksProps} checked, with every default applied: what the
 * construct builds from.
 */
export interface Config {
  readonly name: string;
  readonly frontDoor: FrontDoor;
  readonly createUrlsOverHttp: boolean;
  readonly baseUrl?: string;
  readonly keyMode: KeyMode;
  readonly keyring?: string;
  readonly architecture: lambda.Architecture;
  readonly durableFunctionArns: string[];
  readonly enableOutputParameters: boolean;
  readonly enablePostActions: boolean;
  readonly getActs: boolean;
  readonly getProbe: boolean;
  readonly verboseLogging: boolean;
  readonly email?: EmailNotifyOptions;
  readonly snsTopicArns: string[];
  readonly teamsWebhooks: string[];
  readonly slack?: SlackConfig;
  readonly oidc?: OidcConfig;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly unavailableThreshold: number;
  readonly errorRatePercent: number;
  readonly dashboard: boolean;
  readonly outputs: boolean;
}

const FRONT_DOORS: readonly FrontDoor[] = ['HttpApi', 'RestApi', 'FunctionUrl'];
const KEY_MODES: readonly KeyMode[] = ['kms', 'kms-envelope'];
/** The longest name that keeps `<name>-create-urls` within Lambda's 64. */
const MAX_NAME_LENGTH = 64 - '-create-urls'.length;

/** An error at synth time, naming the prop that is wrong. */
function refuse(prop: string, why: string): never {
  throw new Error(`SfnCallbacks: ${prop}: ${why}`);
}

/**
 * Checks `value` against `pattern` unless it is a token (only known at
 * deploy time).
 */
function requireMatch(prop: string, value: string, pattern: RegExp, why: string): void {
  if (!Token.isUnresolved(value) && !pattern.test(value)) {
    refuse(prop, `${why} (got ${JSON.stringify(value)})`);
  }
}

function requireNonEmpty(prop: string, list: readonly unknown[] | undefined): void {
  if (list === undefined || list.length === 0) {
    refuse(prop, 'needs at least one entry');
  }
}

/**
 * The token of a secret that renders a dynamic reference (or a NoEcho
 * parameter). `requiredWith` names what makes it needed. Plain text and a
 * plain SSM parameter would sit in (or resolve as) readable configuration,
 * and an `ssm-secure` reference is not supported in Lambda environment
 * variables: all are refused.
 */
function secretToken(scope: IConstruct, prop: string, secret: SecretValue | undefined, requiredWith: string): string {
  if (secret === undefined) {
    return refuse(prop, `is needed with ${requiredWith} (a SecretValue, e.g. SecretValue.secretsManager(...))`);
  }
  if (!SecretValue.isSecretValue(secret)) {
    return refuse(prop, 'needs a SecretValue, e.g. SecretValue.secretsManager(...)');
  }
  const token = secret.unsafeUnwrap();
  const rendered: unknown = Stack.of(scope).resolve(token);
  if (typeof rendered === 'string') {
    if (rendered.startsWith('{{resolve:ssm-secure:')) {
      refuse(prop, 'ssm-secure references are not supported in Lambda environment variables; use a Secrets Manager reference');
    }
    if (rendered.startsWith('{{resolve:ssm:')) {
      refuse(prop, 'is an SSM parameter reference, which is not a secret; use a Secrets Manager reference, e.g. SecretValue.secretsManager(...)');
    }
    if (!rendered.startsWith('{{resolve:secretsmanager:')) {
      refuse(prop, 'is plain text; pass a Secrets Manager reference, e.g. SecretValue.secretsManager(...)');
    }
  }
  return token;
}

/** A session TTL in seconds, or undefined when it does not parse. */
function sessionSeconds(ttl: string): number | undefined {
  const match = /^([0-9]+)([hms]?)$/.exec(ttl);
  if (!match) {
    return undefined;
  }
  const scale = { h: 3600, m: 60, s: 1, '': 1 }[match[2] as 'h' | 'm' | 's' | ''];
  return Number(match[1]) * scale;
}

function oidcConfig(scope: IConstruct, oidc: OidcOptions): OidcConfig {
  requireMatch('oidc.issuer', oidc.issuer ?? '', /^https:\/\/\S+$/, 'must be an https URL');
  if (!oidc.clientId) {
    refuse('oidc.clientId', 'is needed with oidc.issuer');
  }
  const clientSecret = secretToken(scope, 'oidc.clientSecret', oidc.clientSecret, 'oidc.issuer');
  const scopes = oidc.scopes ?? 'openid email profile';
  requireMatch('oidc.scopes', scopes, /^(\S+ )*openid( \S+)*$/, 'must be space-separated and include openid');
  const groupsClaim = oidc.groupsClaim ?? 'groups';
  requireMatch('oidc.groupsClaim', groupsClaim, /^\S+$/, 'must be one claim name');
  const sessionTtl = oidc.sessionTtl ?? '8h';
  if (!Token.isUnresolved(sessionTtl)) {
    const seconds = sessionSeconds(sessionTtl);
    if (seconds === undefined || seconds < 60 || seconds > 24 * 3600) {
      refuse('oidc.sessionTtl', `must be like 8h, 90m, 3600s or bare seconds, from a minute to 24h (got ${JSON.stringify(sessionTtl)})`);
    }
  }
  return { issuer: oidc.issuer, clientId: oidc.clientId, clientSecret, scopes, groupsClaim, sessionTtl };
}

function slackConfig(scope: IConstruct, slack: SlackOptions): SlackConfig {
  const botToken = secretToken(scope, 'slack.botToken', slack.botToken, 'slack');
  const signingSecret = secretToken(scope, 'slack.signingSecret', slack.signingSecret, 'slack.botToken');
  return { botToken, signingSecret, channels: slack.channels ?? [] };
}

function emailConfig(email: EmailNotifyOptions): EmailNotifyOptions {
  if (!email.sesIdentity) {
    refuse('notify.email.sesIdentity', 'is needed for email notifications');
  }
  requireNonEmpty('notify.email.from', email.from);
  requireNonEmpty('notify.email.toDomains', email.toDomains);
  return email;
}

function durableArn(entry: lambda.IFunction | string, index: number): string {
  const arn = typeof entry === 'string' ? entry : entry.functionArn;
  requireMatch(
    `durableFunctions[${index}]`,
    arn,
    /^arn:[^:]+:lambda:[^:]+:[0-9]{12}:function:[A-Za-z0-9_-]+$/,
    'must be an unqualified function ARN (its versions and aliases are granted with it)',
  );
  return arn;
}

function checkNumber(prop: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    refuse(prop, `must be from ${min} to ${max} (got ${value})`);
  }
  return value;
}

/**
 * Applies the defaults of infra/template.yaml and refuses, naming the prop,
 * every combination that cannot work (the template's Rules and
 * AllowedPatterns, and a few it cannot express).
 */
export function resolveConfig(scope: IConstruct, props: SfnCallbacksProps): Config {
  const stack = Stack.of(scope);
  const name = props.name ?? stack.stackName;
  requireMatch('name', name, new RegExp(`^[A-Za-z0-9_-]{1,${MAX_NAME_LENGTH}}$`),
    `(default: the stack name) must be 1 to ${MAX_NAME_LENGTH} letters, digits, '-' or '_'`);

  const frontDoor = props.frontDoor ?? 'HttpApi';
  if (!FRONT_DOORS.includes(frontDoor)) {
    refuse('frontDoor', `must be one of ${FRONT_DOORS.join(', ')}`);
  }
  const createUrlsOverHttp = props.createUrlsOverHttp ?? frontDoor !== 'FunctionUrl';
  if (frontDoor === 'FunctionUrl' && createUrlsOverHttp) {
    refuse('createUrlsOverHttp', 'cannot be true with frontDoor FunctionUrl: a Function URL is public, and POST /urls needs IAM');
  }

  const keyMode = props.keyMode ?? 'kms-envelope';
  if (!KEY_MODES.includes(keyMode)) {
    refuse('keyMode', `must be one of ${KEY_MODES.join(', ')}`);
  }
  // An empty keyring is no keyring (the template's HasKeyring); a token
  // is only known at deploy time and is passed as is.
  const keyring = props.keyring === '' ? undefined : props.keyring;
  if (keyMode === 'kms' && keyring === undefined) {
    refuse('keyring', "is needed with keyMode 'kms' (sfn-callbacks keygen --kms-key-id <key> --stdout)");
  }

  if (props.baseUrl !== undefined) {
    requireMatch('baseUrl', props.baseUrl, /^https:\/\/\S*[^/\s]$/, 'must be an https URL without a trailing slash');
  }
  for (const [index, prefix] of (props.notify?.teamsWebhooks ?? []).entries()) {
    requireMatch(`notify.teamsWebhooks[${index}]`, prefix, /^https:\/\/\S+$/, 'must be an https URL prefix');
  }

  return {
    name,
    frontDoor,
    createUrlsOverHttp,
    baseUrl: props.baseUrl,
    keyMode,
    keyring,
    architecture: props.architecture ?? lambda.Architecture.ARM_64,
    durableFunctionArns: (props.durableFunctions ?? []).map(durableArn),
    enableOutputParameters: props.enableOutputParameters ?? false,
    enablePostActions: props.enablePostActions ?? false,
    getActs: props.getActs ?? false,
    getProbe: props.getProbe ?? true,
    verboseLogging: props.verboseLogging ?? false,
    email: props.notify?.email && emailConfig(props.notify.email),
    snsTopicArns: (props.notify?.snsTopics ?? []).map((topic) => topic.topicArn),
    teamsWebhooks: props.notify?.teamsWebhooks ?? [],
    slack: props.slack && slackConfig(scope, props.slack),
    oidc: props.oidc && oidcConfig(scope, props.oidc),
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    unavailableThreshold: checkNumber('unavailableThreshold', props.unavailableThreshold ?? 5, 1, Number.MAX_SAFE_INTEGER),
    errorRatePercent: checkNumber('errorRatePercent', props.errorRatePercent ?? 5, 1, 100),
    dashboard: props.dashboard ?? true,
    outputs: props.outputs ?? true,
  };
}
