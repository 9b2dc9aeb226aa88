import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { FrontDoor } from './props';

/** An HTTP method of a route, as both API flavours spell it. */
type Method = 'ANY' | 'GET' | 'HEAD' | 'POST';

/** One path the callback function serves, and how callers may reach it. */
interface Route {
  readonly path: string;
  readonly methods: readonly Method[];
  /** `true`: IAM-authorised (SigV4); otherwise open. */
  readonly iam?: boolean;
  /** `true`: only with `createUrlsOverHttp`. */
  readonly createUrls?: boolean;
}

/**
 * Every route of infra/template.yaml, for both API flavours. The HTTP API's
 * integration is created under the first route added, so the first is one
 * that is always routed: toggling `createUrlsOverHttp` keeps its logical id.
 */
const ROUTES: readonly Route[] = [
  { path: '/respond', methods: ['ANY'] },
  { path: '/urls', methods: ['POST'], iam: true, createUrls: true },
  { path: '/auth/login', methods: ['GET', 'HEAD'] },
  { path: '/auth/callback', methods: ['GET', 'HEAD'] },
  { path: '/auth/logout', methods: ['POST'] },
  // Slack's signature authenticates its presses; without a Slack app the
  // service answers 404.
  { path: '/slack/interactions', methods: ['POST'] },
];

/** The REST API's one stage. */
export const REST_STAGE = 'prod';

/** What a front door needs. */
export interface FrontDoorProps {
  readonly kind: FrontDoor;
  /** The API's name. */
  readonly name: string;
  readonly handler: lambda.IFunction;
  /** Route `POST /urls` (APIs only). */
  readonly createUrlsOverHttp: boolean;
}

/**
 * The front door of the callback function: an HTTP API, a REST API or a
 * Function URL, with the routes and authorisation of infra/template.yaml.
 */
export class CallbackFrontDoor extends Construct {
  /**
   * The service's URL: no trailing slash for the APIs (the REST one ends
   * with `/prod`), a trailing slash for a Function URL, as AWS gives it.
   */
  public readonly url: string;
  /** The `execute-api:Invoke` ARN of `POST /urls`, when it is routed. */
  public readonly createUrlsArn?: string;
  /** The HTTP API, with `frontDoor: 'HttpApi'`. */
  public readonly httpApi?: apigwv2.HttpApi;
  /** The REST API, with `frontDoor: 'RestApi'`. */
  public readonly restApi?: apigw.RestApi;
  /** The Function URL, with `frontDoor: 'FunctionUrl'`. */
  public readonly functionUrl?: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: FrontDoorProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const routes = ROUTES.filter((route) => props.createUrlsOverHttp || !route.createUrls);
    const executeApiHost = (apiId: string): string =>
      `https://${apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;

    switch (props.kind) {
      case 'HttpApi': {
        const api = new apigwv2.HttpApi(this, 'HttpApi', { apiName: props.name });
        // One integration and one permission (api/*) for every route.
        const integration = new HttpLambdaIntegration('Callbacks', props.handler, {
          scopePermissionToRoute: false,
        });
        const iam = new HttpIamAuthorizer();
        for (const route of routes) {
          api.addRoutes({
            path: route.path,
            methods: route.methods.map((method) => apigwv2.HttpMethod[method]),
            integration,
            authorizer: route.iam ? iam : undefined,
          });
        }
        this.httpApi = api;
        this.url = executeApiHost(api.apiId);
        if (props.createUrlsOverHttp) {
          this.createUrlsArn = api.arnForExecuteApi('POST', '/urls');
        }
        break;
      }
      case 'RestApi': {
        const api = new apigw.RestApi(this, 'RestApi', {
          restApiName: props.name,
          endpointTypes: [apigw.EndpointType.REGIONAL],
          deployOptions: { stageName: REST_STAGE },
          // No account-wide CloudWatch role: nothing is logged by API Gateway.
          cloudWatchRole: false,
        });
        // The L2 adds an `Endpoint` output; the construct has its own `Api`.
        api.node.tryRemoveChild('Endpoint');
        // One permission (api/*/*/*) for every method.
        const integration = new apigw.LambdaIntegration(props.handler, { scopePermissionToMethod: false });
        for (const route of routes) {
          const resource = api.root.resourceForPath(route.path);
          for (const method of route.methods) {
            resource.addMethod(method, integration, {
              authorizationType: route.iam ? apigw.AuthorizationType.IAM : apigw.AuthorizationType.NONE,
            });
          }
        }
        this.restApi = api;
        this.url = `${executeApiHost(api.restApiId)}/${REST_STAGE}`;
        if (props.createUrlsOverHttp) {
          this.createUrlsArn = api.arnForExecuteApi('POST', '/urls', REST_STAGE);
        }
        break;
      }
      case 'FunctionUrl': {
        const functionUrl = new lambda.FunctionUrl(this, 'FunctionUrl', {
          function: props.handler,
          authType: lambda.FunctionUrlAuthType.NONE,
        });
        this.functionUrl = functionUrl;
        this.url = functionUrl.url;
        break;
      }
    }
  }

  /** The URL of `path` (no leading slash) under {@link url}. */
  public urlFor(path: string): string {
    return this.functionUrl ? `${this.url}${path}` : `${this.url}/${path}`;
  }
}
