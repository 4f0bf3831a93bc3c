/**
 * A gateway played by a real @grpc/grpc-js-xds client, run as its own process so it has its own
 * xDS node identity (GRPC_XDS_BOOTSTRAP_CONFIG). Protocol on stdin/stdout, one JSON object a line:
 *   {"cmd":"run","n":200,"timeoutMs":5000}  ->  {"counts":{"backend-a":190,...},"errors":{"14":3}}
 *   {"cmd":"exit"}
 * Usage: node grpcjs-client.js xds:///host
 */
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import { createInterface } from 'node:readline';
import { rawBytes } from '../../src/util/grpc-raw.js';

const WHO_METHOD = '/proxima.test.Echo/Who';
const target = process.argv[2];
// `node --test dist/test` runs every file under test/; without a target this is that run: do nothing.
if (!target) process.exit(0);
xds.register();
const Client = grpc.makeGenericClientConstructor({}, 'Echo');
const client = new Client(target, grpc.credentials.createInsecure());

function once(timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      WHO_METHOD,
      rawBytes,
      rawBytes,
      Buffer.alloc(0),
      new grpc.Metadata({ waitForReady: true }),
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, value?: Buffer) => (err ? reject(err) : resolve(value!.toString('utf8'))),
    );
  });
}

async function run(n: number, timeoutMs: number): Promise<{ counts: Record<string, number>; errors: Record<string, number> }> {
  const counts: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    try {
      const who = await once(timeoutMs);
      counts[who] = (counts[who] ?? 0) + 1;
    } catch (err) {
      const code = String((err as grpc.ServiceError).code ?? 'unknown');
      errors[code] = (errors[code] ?? 0) + 1;
    }
  }
  return { counts, errors };
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const msg = JSON.parse(line) as { cmd: string; n?: number; timeoutMs?: number };
  if (msg.cmd === 'exit') {
    client.close();
    process.exit(0);
  }
  if (msg.cmd === 'run') {
    void run(msg.n ?? 1, msg.timeoutMs ?? 5000).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
  }
});
rl.on('close', () => process.exit(0));
