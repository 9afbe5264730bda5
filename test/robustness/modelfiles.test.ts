// Model folder confinement (lib/modelfiles.ts): inside the folder, or a hub snapshot's blobs, and
// regular files only.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFolder } from '../../lib/modelfiles.js';
import { tempDir } from '../helpers/models.js';
import { expectCode } from './harness.js';

let root: string;
let snapshot: string;
beforeAll(() => {
  root = tempDir('modelfiles');
  // The Hugging Face cache layout: snapshots/<commit>/<file> → ../../blobs/<id>, also one folder down.
  const repo = path.join(root, 'hub', 'models--org--name');
  snapshot = path.join(repo, 'snapshots', 'abc123');
  fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true });
  fs.mkdirSync(path.join(snapshot, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'blobs', 'b1'), '{}');
  fs.writeFileSync(path.join(repo, 'blobs', 'b2'), 'onnx');
  fs.symlinkSync('../../blobs/b1', path.join(snapshot, 'config.json'));
  fs.symlinkSync('../../../blobs/b2', path.join(snapshot, 'onnx', 'model.onnx'));
  fs.writeFileSync(path.join(root, 'secret'), 'x');
  fs.symlinkSync(path.join(root, 'secret'), path.join(snapshot, 'onnx', 'model.onnx.data'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('ModelFolder', () => {
  it("reads a hub snapshot's links into its blobs, from the snapshot and from a folder below it", () => {
    expect(new ModelFolder(snapshot).json('config.json', 'x')).toEqual({});
    expect(new ModelFolder(snapshot).file('onnx/model.onnx', 'x')).toBe(path.join(snapshot, 'onnx', 'model.onnx'));
    expect(new ModelFolder(path.join(snapshot, 'onnx')).file('model.onnx', 'x')).toBe(path.join(snapshot, 'onnx', 'model.onnx'));
  });

  it('refuses links that leave both, paths that leave the folder, and what is not a regular file', async () => {
    await expectCode(() => new ModelFolder(path.join(snapshot, 'onnx')).checkAll('.'), 'E_MODEL_FILES', /model\.onnx\.data: resolves outside the model folder/);
    await expectCode(() => new ModelFolder(snapshot).file('../../blobs/b1', 'x'), 'E_MODEL_FILES', /a path outside the model folder/);
    await expectCode(() => new ModelFolder(snapshot).file('/etc/hostname', 'x'), 'E_MODEL_FILES', /a path outside the model folder/);
    await expectCode(() => new ModelFolder(snapshot).file('onnx', 'x'), 'E_MODEL_FILES', /not a regular file/);
    await expectCode(() => new ModelFolder(snapshot).file('none.json', 'the thing'), 'E_MODEL_FILES', /no such file \(expected the thing\)/);
  });
});
