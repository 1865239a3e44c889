import { userInfo } from 'node:os';
import { type Io, println, table } from '../../../agent/src/cli/io.js';
import { ROLES, usersAdd, usersList } from '../console/index.js';
import { Store } from '../store/index.js';
import { COMMON_HELP, parse, storeUrl, UsageError } from './args.js';

const HELP = `Usage: edge-platform users <add|list> [options]

Operator accounts of the console. Passwords are kept as argon2id hashes (64 MiB, 3 passes).

  users add NAME --role viewer|operator|admin [--password-stdin]
                    make an account; without --password-stdin a one-time password is
                    generated and printed once (at least 12 characters otherwise)
  users list        every account with its role

Roles: viewer reads everything; operator also handles alerts and incidents; admin also
sees the accounts and the operator action log.

${COMMON_HELP}`;

async function readAll(io: Io): Promise<string> {
  let s = '';
  for await (const c of io.stdin) s += String(c);
  return s.replace(/\r?\n$/, '');
}

export async function usersCommand(args: string[], io: Io): Promise<number> {
  const { values: o, positionals } = parse(args, {
    role: { type: 'string' },
    'password-stdin': { type: 'boolean' },
  });
  const [sub, name] = positionals;
  if (o.help || sub === undefined) {
    println(o.help ? io.stdout : io.stderr, HELP);
    return o.help ? 0 : 2;
  }
  if (sub !== 'add' && sub !== 'list') throw new UsageError(`unknown subcommand "${sub}" (add, list)`);
  if (sub === 'add' && !name) throw new UsageError('users add needs a user NAME');
  if (sub === 'add' && !(ROLES as readonly string[]).includes(o.role ?? ''))
    throw new UsageError(`users add needs --role ${ROLES.join('|')}`);
  const password = sub === 'add' && o['password-stdin'] ? await readAll(io) : undefined;
  const store = new Store({ url: storeUrl(o.store, args, io.env), migrate: !o['no-migrate'] });
  await store.start();
  try {
    if (sub === 'list') {
      const list = await usersList(store.db);
      if (o.json) println(io.stdout, JSON.stringify(list, null, 2));
      else
        println(
          io.stdout,
          table(
            ['USER', 'ROLE', 'CREATED', 'STATE'],
            list.map((u) => [u.username, u.role, u.createdAt, u.disabled ? 'disabled' : 'active']),
          ),
        );
      return 0;
    }
    const r = await usersAdd(store.db, {
      username: name,
      role: o.role as string,
      ...(password !== undefined ? { password } : {}),
      by: userInfo().username,
    });
    if (o.json)
      println(
        io.stdout,
        JSON.stringify({ user: r.user, ...(r.generatedPassword ? { password: r.generatedPassword } : {}) }),
      );
    else {
      println(io.stdout, `${r.user.username} (${r.user.role}) added`);
      if (r.generatedPassword) println(io.stdout, `one-time password (shown once): ${r.generatedPassword}`);
    }
    return 0;
  } finally {
    await store.stop();
  }
}
