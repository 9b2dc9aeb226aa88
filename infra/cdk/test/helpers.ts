import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SfnCallbacks, type SfnCallbacksProps } from '../src';

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

/** The logical id of the construct child at `path` (e.g. `CallbackFunction`). */
export function logicalId(stack: Stack, callbacks: SfnCallbacks, childPath: string): string {
  let node: any = callbacks;
  for (const part of childPath.split('/')) {
    node = node.node.findChild(part);
  }
  return stack.getLogicalId(node.node.defaultChild ?? node);
}

/** A function's properties, by its child id (`CallbackFunction`, `CreateUrlsFunction`). */
export function functionProps(json: Record<string, any>, stack: Stack, callbacks: SfnCallbacks, id: string): any {
  return json.Resources[logicalId(stack, callbacks, id)].Properties;
}

/**
 * Every statement of the inline policies attached to a function's role, in
 * order (the statements the role may use beyond its managed policies).
 */
export function roleStatements(json: Record<string, any>, stack: Stack, callbacks: SfnCallbacks, id: string): any[] {
  const roleRef = functionProps(json, stack, callbacks, id).Role['Fn::GetAtt'][0];
  return Object.values(resources(json, 'AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((role: any) => role.Ref === roleRef))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
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
