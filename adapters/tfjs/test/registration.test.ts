/**
 * `registerGradients()` adds a gradient only where tfjs has none: one registered before it (by
 * tfjs, a later tfjs, or another library) is kept. This file runs in a process of its own, so it
 * can register a gradient before the package does.
 */
import './helpers/quiet-greeting.js';
import { registerGradients } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

describe('registerGradients()', () => {
  it('keeps every gradient that was there before it ran', () => {
    const sentinel: tf.GradConfig = {
      kernelName: 'LogicalNot',
      inputsToSave: ['x'],
      gradFunc: (_dy, saved) => ({ x: () => tf.zeros(saved[0].shape) }),
    };
    tf.registerGradient(sentinel);
    const existing = ['Tanh', 'Slice', 'GreaterEqual', 'GatherV2', 'Softplus', 'Pack', 'Unpack'];
    const before = new Map(existing.map((k) => [k, tf.getGradient(k)] as const));
    for (const kernel of ['StridedSlice', 'Einsum', 'GatherNd', 'ScatterNd']) {
      expect(tf.getGradient(kernel)).toBeUndefined();
    }

    const registered = registerGradients();

    expect(registered).not.toContain('LogicalNot');
    expect(tf.getGradient('LogicalNot')).toBe(sentinel);
    for (const kernel of existing) {
      expect(before.get(kernel)).toBeDefined();
      expect(tf.getGradient(kernel)).toBe(before.get(kernel));
    }
    for (const kernel of registered) expect(tf.getGradient(kernel)).toBeDefined();
  });
});
