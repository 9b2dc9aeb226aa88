import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { SfnCallbacks } from '../src';
import { assetDir, newStack } from './helpers';

// The README's example, as written there (but the asset path), so it keeps compiling and synthesizing.
test('the README example synthesizes', () => {
  const stack = newStack();

  const callbacks = new SfnCallbacks(stack, 'Callbacks', {
    code: lambda.Code.fromAsset(assetDir()),
    notify: {
      email: { sesIdentity: 'example.com', from: ['approvals@example.com'], toDomains: ['example.com'] },
    },
    alarmTopic: new sns.Topic(stack, 'Alarms'),
  });

  const approve = callbacks.approvalTask(stack, 'AskForApproval', {
    actions: [
      { name: 'approve', type: 'success', output: { approved: true } },
      { name: 'reject', type: 'failure', error: 'Rejected', cause: 'Not approved' },
    ],
    expiration: sfn.JsonPath.stringAt('$.deadline'),
    notify: { email: { to: 'lead@example.com' }, context: sfn.JsonPath.objectAt('$') },
    taskTimeout: sfn.Timeout.duration(Duration.days(7)),
  });

  new sfn.StateMachine(stack, 'Release', {
    definitionBody: sfn.DefinitionBody.fromChainable(
      approve.addCatch(new sfn.Fail(stack, 'Rejected'), { errors: ['Rejected'] })
        .next(new sfn.Succeed(stack, 'Released')),
    ),
  });

  const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  callbacks.grantCreateUrls(caller);

  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
  assert.match(JSON.stringify(template.toJSON()), /lambda:invoke\.waitForTaskToken/);
});
