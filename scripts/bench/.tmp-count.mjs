import pg from 'pg';
import { Redis } from 'ioredis';
const counts = new Map();
const add = (k) => counts.set(k, (counts.get(k) ?? 0) + 1);
const q = pg.Client.prototype.query;
pg.Client.prototype.query = function (cfg, ...rest) { const t = typeof cfg === 'string' ? cfg : cfg?.text ?? cfg?.name ?? '?'; add('PG ' + String(t).replace(/\s+/g, ' ').slice(0, 90)); return q.call(this, cfg, ...rest); };
const sc = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (cmd, ...rest) { add('REDIS ' + cmd.name + (cmd.name === 'evalsha' ? ' ' + String(cmd.args?.[0]).slice(0, 8) : '')); return sc.call(this, cmd, ...rest); };
process.on('SIGUSR2', () => { process.stderr.write(JSON.stringify([...counts].sort((a, b) => b[1] - a[1])) + '\n'); counts.clear(); });
