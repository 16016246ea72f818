/**
 * Execution providers tried in a child process: the child's answer, and the native text it
 * printed turned into part of a one-line reason.
 */
import { describe, expect, it } from 'vitest';
import { nativeNotes, probeProvider, providerFailure } from '../src/provider-probe.js';
import { MOONS } from './helpers.js';

/** What Dawn prints on a machine without libvulkan, verbatim (onnxruntime-node 1.30). */
const DAWN =
  "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such " +
  'file or directory\n' +
  '    at operator() (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:368)\n' +
  '\n';

describe('nativeNotes', () => {
  it('keeps the message of native warnings, without stack lines, blanks and repeats', () => {
    expect(nativeNotes(DAWN + DAWN)).toBe(
      "Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or " +
        'directory',
    );
  });

  it('keeps two distinct messages at most, and gives an empty string for no output', () => {
    expect(nativeNotes('E: one.\nW: two\nthree\n')).toBe('one; two');
    expect(nativeNotes('')).toBe('');
  });
});

describe('providerFailure', () => {
  it("drops the adapter's preamble and ONNX Runtime's source locations", () => {
    const message =
      'loadOnnxFlow(): no execution provider could run the model:\n' +
      '  - webgpu: /onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 ' +
      'onnxruntime::webgpu::WebGpuContext::Initialize() adapter_result.status == ' +
      'wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No ' +
      'supported adapters. It needs libvulkan1.';

    expect(providerFailure('webgpu', message)).toBe(
      'Failed to get a WebGPU adapter: No supported adapters. It needs libvulkan1.',
    );
  });
});

describe('probeProvider', () => {
  it('answers works: true for a provider that starts (cpu)', async () => {
    await expect(probeProvider(MOONS, 'cpu')).resolves.toEqual({ name: 'cpu', works: true });
  });

  it("answers works: false with the adapter's code and reason for a missing model", async () => {
    const status = await probeProvider('/nonexistent/model.onnx', 'cpu');

    expect(status.works).toBe(false);
    expect(status).toMatchObject({ name: 'cpu', code: expect.any(String) });
    expect(status.works === false && status.reason).toMatch(/nonexistent\/model\.onnx/);
  });
});
