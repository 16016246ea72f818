import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildVjpModel, unsupportedOperators } from '../../src/autodiff/index.js';
import { FLOAT, onnx, run } from './helpers.js';

/**
 * The flows exported from PyTorch under `fixtures/<name>/` (RealNVP, NICE, Glow), each with a
 * float64 autograd reference VJP. The models are float32, so the VJP is compared in relative L2
 * error with a bound of 1e-4, far above float32 rounding and far below any wrong rule.
 */
const RELATIVE_L2_BOUND = 1e-4;

const root = fileURLToPath(new URL('../../../../fixtures/', import.meta.url));

interface Reference {
  readonly n: number;
  readonly shapes: Record<string, number[]>;
  readonly z: number[];
  readonly cotangentX: number[];
  readonly cotangentLogDet: number[];
  readonly vjp: number[];
}

/** `[fixture, model file]` for every exported model with a reference (hand-written VJPs aside). */
const models: [string, string][] = existsSync(root)
  ? readdirSync(root).flatMap((name) => {
      const dir = `${root}${name}/`;
      if (!existsSync(`${dir}reference.json`)) return [];
      return readdirSync(dir)
        .filter((file) => /^model.*\.onnx$/.test(file) && !file.includes('gradients'))
        .map((file): [string, string] => [name, file]);
    })
  : [];

function relativeL2(actual: readonly number[], expected: readonly number[]): number {
  let difference = 0;
  let norm = 0;
  expected.forEach((e, i) => {
    difference += (actual[i] - e) ** 2;
    norm += e ** 2;
  });
  return Math.sqrt(difference / norm);
}

describe('exported flows under fixtures/', () => {
  // Without fixtures one placeholder case is listed as skipped.
  const cases: [string, string][] = models.length > 0 ? models : [['(none)', 'model.onnx']];

  it.skipIf(models.length === 0).each(cases)(
    '%s/%s: every operator is covered and the VJP matches autograd',
    async (name, file) => {
      const dir = `${root}${name}/`;
      const reference = JSON.parse(readFileSync(`${dir}reference.json`, 'utf8')) as Reference;
      const model = onnx.ModelProto.decode(readFileSync(`${dir}${file}`));

      expect(unsupportedOperators(model, 'z', ['x', 'logdet'])).toEqual([]);
      const vjpModel = buildVjpModel(model, { input: 'z', outputs: ['x', 'logdet'] });
      const feed = (key: keyof Reference & string, data: number[]) => ({
        type: FLOAT,
        dims: reference.shapes[key],
        data,
      });
      const result = await run(vjpModel, {
        z: feed('z', reference.z),
        cotangent_x: feed('cotangentX', reference.cotangentX),
        cotangent_logdet: feed('cotangentLogDet', reference.cotangentLogDet),
      });

      expect(result.vjp_z.dims).toEqual(reference.shapes.vjp);
      expect(relativeL2(result.vjp_z.data, reference.vjp)).toBeLessThan(RELATIVE_L2_BOUND);
    },
  );
});
