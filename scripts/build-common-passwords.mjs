// Builds assets/common-passwords.txt, the blocklist behind passwordPolicy.rejectCommon.
//
// Source: the `passwords` frequency list (30,000 entries, most common first) of the npm package
// zxcvbn@4.4.2 (MIT, (c) 2012-2016 Dan Wheeler and Dropbox, Inc.), file lib/frequency_lists.js.
// zxcvbn built that list from Mark Burnett's ten-million-password corpus, which he released
// into the public domain (February 2015). The project has no runtime dependency on zxcvbn:
// this script only reads the package's tarball, fetched with `npm pack`.
//
// Usage (from the repository root):
//   node scripts/build-common-passwords.mjs                 # fetches zxcvbn@4.4.2 with npm pack
//   node scripts/build-common-passwords.mjs path/to.tgz     # uses a tarball you already have
//
// The tarball is checked against the registry's published integrity before it is read, so the
// file is reproducible byte for byte. Entries are kept as published (in their original order,
// NFKC-normalised and lower-cased, duplicates after that dropped); the service normalises a
// candidate password the same way before looking it up.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'zxcvbn@4.4.2';
const INTEGRITY = 'sha512-Bq0B+ixT/DMyG8kgX2xWcI5jUvCwqrMxSFam7m0lAf78nf04hv6lNCsyLYdyYTrCVMqNDY/206K7eExYCeSyUQ==';
const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'assets', 'common-passwords.txt');

const work = mkdtempSync(join(tmpdir(), 'common-passwords-'));
try {
  let tarball = process.argv[2] ? resolve(process.argv[2]) : null;
  if (!tarball) {
    const out = execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], { encoding: 'utf8' }).trim().split('\n').pop();
    tarball = join(work, out);
  }
  const bytes = readFileSync(tarball);
  const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
  if (integrity !== INTEGRITY) throw new Error(`${tarball}: integrity ${integrity} is not the published ${INTEGRITY}`);
  execFileSync('tar', ['xzf', tarball, '-C', work, 'package/lib/frequency_lists.js', 'package/LICENSE.txt']);
  const lists = createRequire(import.meta.url)(join(work, 'package', 'lib', 'frequency_lists.js'));
  const licence = readFileSync(join(work, 'package', 'LICENSE.txt'), 'utf8').trimEnd().split(/\r?\n/);
  const passwords = lists.passwords;
  if (!Array.isArray(passwords) || passwords.length < 10_000) throw new Error('unexpected frequency_lists.js: no passwords list');

  const seen = new Set();
  const entries = [];
  for (const raw of passwords) {
    const p = String(raw).normalize('NFKC').toLowerCase();
    // One entry a line, and '#' starts a comment line: neither can be represented, so skip.
    if (p === '' || /[\r\n]/.test(p) || p.startsWith('#') || seen.has(p)) continue;
    seen.add(p);
    entries.push(p);
  }

  const header = [
    '# Common passwords: the blocklist behind passwordPolicy.rejectCommon (see README, "Passwords").',
    `# Source: the "passwords" frequency list of the npm package ${PACKAGE}, lib/frequency_lists.js`,
    `#   (tarball integrity ${INTEGRITY}).`,
    '# Licence: MIT (zxcvbn), whose notice, copied from the package\'s LICENSE.txt, follows:',
    ...licence.map((l) => `#   ${l}`.trimEnd()),
    "# Origin: zxcvbn derived the list from Mark Burnett's ten-million-password corpus, which he released",
    '#   into the public domain (February 2015), so the entries themselves carry no further terms.',
    '# Built by scripts/build-common-passwords.mjs: NFKC-normalised, lower-cased, de-duplicated, most',
    `# common first. ${entries.length} entries, one a line; lines starting with '#' are comments.`,
  ];
  writeFileSync(OUT, `${header.join('\n')}\n${entries.join('\n')}\n`);
  console.log(`wrote ${OUT}: ${entries.length} entries`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
