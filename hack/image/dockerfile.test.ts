import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { contextCopies, contextFiles, dockerIgnored, parseDockerignore, parseFinalStage } from './dockerfile.ts';

const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=node:24
FROM \${BASE} AS deps
RUN npm ci
FROM \${BASE}
ENV A=1
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# a comment between instructions
RUN mkdir x \\
  && node main.ts --help > /dev/null
USER 1000:1000
EXPOSE 8080 8081/udp
ENTRYPOINT ["node", "main.ts"]
`;

describe('parseFinalStage', () => {
  it('reads only the last stage, joins continuation lines, and resolves COPY destinations against WORKDIR', () => {
    const stage = parseFinalStage(DOCKERFILE);
    assert.deepEqual([...stage.env], [['A', '1']]);
    assert.equal(stage.workdir, '/app');
    assert.equal(stage.user, '1000:1000');
    assert.deepEqual(stage.exposedPorts, ['8080/tcp', '8081/udp']);
    assert.deepEqual(stage.entrypoint, ['node', 'main.ts']);
    assert.deepEqual(stage.runs, ['mkdir x && node main.ts --help > /dev/null']);
    assert.deepEqual(stage.copies, [
      { from: 'deps', sources: ['/app/node_modules'], destination: '/app/node_modules' },
      { from: undefined, sources: ['package.json'], destination: '/app/' },
      { from: undefined, sources: ['src'], destination: '/app/src' },
    ]);
  });

  it('refuses an instruction it does not understand rather than building something else', () => {
    assert.throws(() => parseFinalStage('FROM x\nADD a.tar /\n'), /not understood/);
    assert.throws(() => parseFinalStage('FROM x\nENTRYPOINT node main.ts\n'), /exec form/);
  });
});

describe('contextCopies', () => {
  it('lists what the context COPY lines put in the image, after .dockerignore (last match wins, parents count)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'dockerfile-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'src/lib'), { recursive: true });
    for (const f of ['package.json', 'other.txt', 'src/a.ts', 'src/a.test.ts', 'src/lib/b.ts']) await writeFile(join(dir, f), f);
    const ignore = parseDockerignore('# comment\n*\n!package.json\n!src\n**/*.test.ts\n');
    const copies = contextCopies(dir, parseFinalStage(DOCKERFILE), ignore);
    assert.deepEqual(
      [...copies],
      [
        ['/app/package.json', 'package.json'],
        ['/app/src/a.ts', 'src/a.ts'],
        ['/app/src/lib/b.ts', 'src/lib/b.ts'],
      ],
    );
    assert.ok(dockerIgnored('other.txt', ignore));
    assert.ok(!dockerIgnored('src/lib/b.ts', ignore));
  });
});

describe('contextFiles', () => {
  it('lists the whole build context: files admitted inside ignored directories too, never .git, node_modules or dist', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'dockerfile-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    for (const d of ['src', 'hack/image', '.git', 'node_modules/x', 'dist/operator']) await mkdir(join(dir, d), { recursive: true });
    for (const f of [
      'package.json',
      'src/a.ts',
      'src/a.test.ts',
      'hack/build.ts',
      'hack/other.ts',
      '.git/HEAD',
      'node_modules/x/i.js',
      'dist/operator/main.mjs',
    ])
      await writeFile(join(dir, f), f);
    const ignore = parseDockerignore('*\n!package.json\n!src\n!hack/build.ts\n!node_modules\n!dist\n**/*.test.ts\n');
    assert.deepEqual(contextFiles(dir, ignore), ['hack/build.ts', 'package.json', 'src/a.ts']);
  });
});
