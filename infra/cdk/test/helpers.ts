import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement, DefaultStackSynthesizer, SecretValue, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { type OidcOptions, SfnCallbacks, type SfnCallbacksProps, type SlackOptions } from '../src';

export const DURABLE_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:order-approval';
export const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
export const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:approvals';

/** Sign-in, with the defaults of its optional settings. */
export const OIDC: OidcOptions = {
  issuer: 'https://login.example.com',
  clientId: 'client-1',
  clientSecret: SecretValue.secretsManager('oidc', { jsonField: 'clientSecret' }),
};

/** A Slack app without channels. */
export const SLACK: SlackOptions = {
  botToken: SecretValue.secretsManager('slack', { jsonField: 'botToken' }),
  signingSecret: SecretValue.secretsManager('slack', { jsonField: 'signingSecret' }),
};

let asset: string | undefined;

/** A directory holding a dummy `bootstrap`, made once per test process and removed at its exit. */
export function assetDir(): string {
  if (asset === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfn-callbacks-cdk-asset-'));
    fs.writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\n', { mode: 0o755 });
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    asset = dir;
  }
  return asset;
}

/** A fresh app and stack `S`, with no bootstrap rule (cfn-lint would flag it). */
export function newStack(outdir?: string): Stack {
  const app = new App({ analyticsReporting: false, outdir });
  return new Stack(app, 'S', { synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }) });
}

/** The construct's props minus `code`, which every test gets from {@link assetDir}. */
export type TestProps = Omit<SfnCallbacksProps, 'code'>;

/** Every option on (the front door, the key mode and alarms aside). */
export function everything(stack: Stack): TestProps {
  return {
    baseUrl: 'https://approvals.example.com',
    durableFunctions: [DURABLE_ARN],
    enableOutputParameters: true,
    enablePostActions: true,
    getActs: true,
    getProbe: false,
    verboseLogging: true,
    notify: {
      email: { sesIdentity: 'example.com', from: ['approvals@example.com', '@example.com'], toDomains: ['example.com', 'corp.example'] },
      snsTopics: [sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN)],
      teamsWebhooks: ['https://*.environment.api.powerplatform.com/powerautomate/'],
    },
    slack: { ...SLACK, channels: ['C0123', 'C0456'] },
    oidc: { ...OIDC, scopes: 'openid email', groupsClaim: 'cognito:groups', sessionTtl: '90m' },
  };
}

/** Builds `SfnCallbacks` in `stack` with a dummy asset. */
export function addCallbacks(stack: Stack, props: TestProps = {}): SfnCallbacks {
  return new SfnCallbacks(stack, 'Callbacks', { code: lambda.Code.fromAsset(assetDir()), ...props });
}

/** The stack, the construct and its template; `after` may add to the stack before synthesis. */
export function synth(
  props: TestProps | ((stack: Stack) => TestProps) = {},
  after?: (callbacks: SfnCallbacks, stack: Stack) => void,
): { stack: Stack; callbacks: SfnCallbacks; template: Template; json: Record<string, any> } {
  const stack = newStack();
  const callbacks = addCallbacks(stack, typeof props === 'function' ? props(stack) : props);
  after?.(callbacks, stack);
  const template = Template.fromStack(stack);
  return { stack, callbacks, template, json: template.toJSON() };
}

/** The resources of `type`, by logical id. */
export function resources(json: Record<string, any>, type: string): Record<string, any> {
  return Object.fromEntries(Object.entries(json.Resources as Record<string, any>).filter(([, r]) => r.Type === type));
}

/** The one resource of `type`; fails unless there is exactly one. */
export function only(json: Record<string, any>, type: string): { id: string; resource: any } {
  const found = Object.entries(resources(json, type));
  if (found.length !== 1) {
    throw new Error(`expected one ${type}, found ${found.length}`);
  }
  const [id, resource] = found[0];
  return { id, resource };
}

/**
 * The logical id of the construct at `childPath` under `scope` (e.g.
 * `CallbackFunction` under the construct, or `Caller` under the stack):
 * its L1 when it has one.
 */
export function logicalId(stack: Stack, scope: IConstruct, childPath: string): string {
  let node: IConstruct = scope;
  for (const part of childPath.split('/')) {
    node = node.node.findChild(part);
  }
  return stack.getLogicalId((node.node.defaultChild ?? node) as CfnElement);
}

/** A function's properties, by its child id (`CallbackFunction`, `CreateUrlsFunction`). */
export function functionProps(json: Record<string, any>, stack: Stack, callbacks: SfnCallbacks, id: string): any {
  return json.Resources[logicalId(stack, callbacks, id)].Properties;
}

/** Every statement of the inline policies attached to the role with logical id `role`, in order. */
export function policyStatements(json: Record<string, any>, role: string): any[] {
  return Object.values(resources(json, 'AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((attached: any) => attached.Ref === role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/**
 * Every statement of the inline policies attached to a function's role, in
 * order (the statements the role may use beyond its managed policies).
 */
export function roleStatements(json: Record<string, any>, stack: Stack, callbacks: SfnCallbacks, id: string): any[] {
  return policyStatements(json, functionProps(json, stack, callbacks, id).Role['Fn::GetAtt'][0]);
}

/**
 * A value with its intrinsics replaced by readable text, so a definition
 * or an ARN can be compared as a string: `{Ref: X}` becomes `<X>`,
 * `{Fn::GetAtt: [X, A]}` becomes `<X.A>`, and `Fn::Join` is joined.
 */
export function flatten(value: any): any {
  if (Array.isArray(value)) {
    return value.map(flatten);
  }
  if (value !== null && typeof value === 'object') {
    if ('Ref' in value) return `<${value.Ref}>`;
    if ('Fn::GetAtt' in value) return `<${value['Fn::GetAtt'].join('.')}>`;
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'];
      return parts.map(flatten).join(separator);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flatten(v)]));
  }
  return value;
}
