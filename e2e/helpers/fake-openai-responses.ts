// The OpenAI Responses API (POST /v1/responses, streamed) as far as the real Codex CLI needs it
// for a scripted turn: `response.created`, one `response.output_item.added`/`.done` pair per
// output item (an assistant message or a function call), then `response.completed` — Codex
// treats a stream that ends without `response.completed` as a dropped connection and retries.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** One output item of a scripted reply. */
export type ResponsesItem =
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'function_call'; readonly name: string; readonly arguments: string };

/** The parts of a Responses API request a script looks at. */
export interface ResponsesRequest {
  readonly model?: string;
  readonly stream?: boolean;
  readonly tools?: readonly Record<string, unknown>[];
  readonly input?: readonly Record<string, unknown>[];
}

/** Decides the output items of a reply. */
export type ResponsesScript = (request: ResponsesRequest) => readonly ResponsesItem[];

/** The function_call_output items of the request's input (what earlier calls returned). */
export function findFunctionOutputs(request: ResponsesRequest): Record<string, unknown>[] {
  return (request.input ?? []).filter((item) => item['type'] === 'function_call_output');
}

/** The text of a function_call_output (a string, or a list of input_text parts). */
export function readFunctionOutputText(item: Record<string, unknown>): string {
  const output = item['output'];
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) return JSON.stringify(output);
  return output
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '',
    )
    .join('');
}

/**
 * A script that makes the agent call `calls` in turn (the next once the previous output is
 * back), then answers `doneText`. Stateless, like the Anthropic one: the step is the number
 * of function outputs already in the request.
 */
export function scriptFunctionCalls(
  calls: readonly { readonly name: string; readonly arguments: Record<string, unknown> }[],
  doneText: string,
): ResponsesScript {
  return (request) => {
    const next = calls[findFunctionOutputs(request).length];
    return next === undefined
      ? [{ type: 'message', text: doneText }]
      : [{ type: 'function_call', name: next.name, arguments: JSON.stringify(next.arguments) }];
  };
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

function toOutputItem(item: ResponsesItem): Record<string, unknown> {
  return item.type === 'message'
    ? {
        type: 'message',
        id: newId('msg'),
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: item.text, annotations: [] }],
      }
    : {
        type: 'function_call',
        id: newId('fc'),
        call_id: newId('call'),
        status: 'completed',
        name: item.name,
        arguments: item.arguments,
      };
}

/** Streams `items` as a Responses API SSE stream. */
export function streamResponses(
  res: ServerResponse,
  model: string,
  items: readonly ResponsesItem[],
): void {
  const id = newId('resp');
  let sequence = 0;
  const write = (type: string, data: Record<string, unknown>): void => {
    res.write(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`,
    );
  };
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model };
  write('response.created', { response: { ...base, status: 'in_progress', output: [] } });
  const output = items.map(toOutputItem);
  items.forEach((scripted, index) => {
    const item = output[index];
    write('response.output_item.added', { output_index: index, item });
    if (scripted.type === 'message') {
      write('response.output_text.delta', {
        item_id: item?.['id'],
        output_index: index,
        content_index: 0,
        delta: scripted.text,
      });
    }
    write('response.output_item.done', { output_index: index, item });
  });
  write('response.completed', {
    response: {
      ...base,
      status: 'completed',
      output,
      usage: {
        input_tokens: 50,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 70,
      },
    },
  });
  res.end();
}
