import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startEmbeddedDynamo, useNativeChecksums, type EmbeddedDynamo } from '../src/store/embedded';

// The module dynalite requires (from dynalite's own folder); its JavaScript `unsigned`, kept before the swap, is
// the reference.
const crcModule = createRequire(createRequire(import.meta.url).resolve('dynalite'))('buffer-crc32') as {
  unsigned: (input: unknown, previous?: unknown) => number;
  signed: (input: unknown) => number;
};
const javascriptUnsigned = crcModule.unsigned;

describe("the embedded store's answer checksums", () => {
  let dynamo: EmbeddedDynamo | undefined;
  afterAll(async () => dynamo?.close());

  it('are the numbers buffer-crc32 gave, for strings, multi-byte text and buffers', () => {
    const inputs: (string | Buffer)[] = [
      '',
      '{"TableNames":[]}',
      'Grüße, 日本語, emoji 🎉 and a lone \u00e9',
      randomBytes(100_000).toString('base64'),
      randomBytes(4096),
      Buffer.alloc(0),
    ];
    const expected = inputs.map((i) => javascriptUnsigned(i));
    expect(useNativeChecksums()).toBe(true);
    expect(useNativeChecksums()).toBe(true); // once is enough; again changes nothing
    expect(crcModule.unsigned).not.toBe(javascriptUnsigned);
    expect(inputs.map((i) => crcModule.unsigned(i))).toEqual(expected);
    // Calls dynalite does not make still get the original's answers.
    expect(crcModule.unsigned('abc', 12345)).toBe(javascriptUnsigned('abc', 12345));
    expect(crcModule.signed('abc')).toBe(javascriptUnsigned('abc') | 0);
  });

  it("stamp dynalite's answers with their body's CRC32, which the AWS SDK accepts", async () => {
    dynamo = await startEmbeddedDynamo();
    const res = await fetch(dynamo.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'x-amz-date': '20261205T000000Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20261205/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-amz-crc32'))).toBe(javascriptUnsigned(body));
    const client = dynamo.client();
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    client.destroy();
  });
});
