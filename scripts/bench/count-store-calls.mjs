// Preloaded into the servers with `npm run bench -- --count-store-calls` (node --import):
// counts every PostgreSQL statement (by its text), every Redis command (by name; scripts by
// SHA prefix) and every embedded SQLite statement execution (by its text; BEGIN/COMMIT of
// transactions too), so the benchmark can say how many round trips / statements one flow costs. On SIGUSR2
// the counts so far are written to BENCH_COUNT_FILE.<pid> (JSON) and reset. Instrumentation
// only: it wraps pg.Client#query, Redis#sendCommand and libsql's statements and changes
// nothing else.
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import Database from 'libsql';

const counts = new Map();
const add = (k) => counts.set(k, (counts.get(k) ?? 0) + 1);

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : (config?.text ?? config?.name ?? '?');
  add(`pg: ${String(text).replace(/\s+/g, ' ').trim().slice(0, 100)}`);
  return query.call(this, config, ...rest);
};

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(command, ...rest) {
  const name = command?.name ?? '?';
  add(`redis: ${name}${name === 'evalsha' || name === 'eval' ? ` ${String(command.args?.[0] ?? '').slice(0, 8)}` : ''}`);
  return sendCommand.call(this, command, ...rest);
};

const SQL = Symbol('bench sql');
let statementPatched = false;
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function countedPrepare(sql) {
  const stmt = prepare.call(this, sql);
  stmt[SQL] = String(sql).replace(/\s+/g, ' ').trim().slice(0, 100);
  if (!statementPatched) {
    statementPatched = true;
    const proto = Object.getPrototypeOf(stmt);
    // Not `all`: libsql's all() runs through iterate(), which would count it twice.
    for (const m of ['run', 'get', 'iterate']) {
      const original = proto[m];
      proto[m] = function countedStatement(...args) {
        add(`sqlite: ${this[SQL] ?? '?'}`);
        return original.apply(this, args);
      };
    }
  }
  return stmt;
};
const exec = Database.prototype.exec;
Database.prototype.exec = function countedExec(sql) {
  add(`sqlite: ${String(sql).replace(/\s+/g, ' ').trim().slice(0, 100)}`);
  return exec.call(this, sql);
};

process.on('SIGUSR2', () => {
  const file = process.env.BENCH_COUNT_FILE;
  if (file) writeFileSync(`${file}.${process.pid}`, JSON.stringify(Object.fromEntries(counts)));
  counts.clear();
});
