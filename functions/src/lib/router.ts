import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

type RestHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * One Lambda function serving several routes of an area: dispatches on the route table's
 * `METHOD /resource` (API Gateway's `httpMethod` and `resource`). Each route keeps its own
 * `httpHandler` chain and schemas. API Gateway only sends the routes the table gives this function,
 * so an unknown key is a deployment mistake and answers 404.
 */
export function routes(table: Readonly<Record<string, RestHandler>>): RestHandler {
  return async (event, context) => {
    const route = table[`${event.httpMethod} ${event.resource}`];
    if (!route) {
      return {
        statusCode: 404,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: JSON.stringify({ error: { code: 'not_found', message: 'No such route' } }),
      };
    }
    return route(event, context);
  };
}
