/**
 * Small TensorFlow.js graph models built in memory, node by node, in the GraphDef JSON that
 * `tensorflowjs_converter` writes (as `fixtures/scripts/make-two-moons-tfjs.mjs` does for the
 * fixture): a `Placeholder` input, `Const` weights whose values go to the weight buffer, and
 * operator nodes with their attributes.
 */
import type { AnyGraphModel } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';

/** A GraphDef node as `model.json` stores it. */
export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

/** Attribute values in GraphDef JSON form. */
export const attr = {
  float: { type: 'DT_FLOAT' },
  int32: { type: 'DT_INT32' },
  bool: (b: boolean) => ({ b }),
  int: (i: number) => ({ i: String(i) }),
  number: (f: number) => ({ f }),
  string: (s: string) => ({ s: btoa(s) }),
  ints: (values: readonly number[]) => ({ list: { i: values.map(String) } }),
  strings: (values: readonly string[]) => ({ list: { s: values.map((v) => btoa(v)) } }),
  shape: (dims: readonly number[]) => ({
    shape: { dim: dims.map((size) => ({ size: String(size) })) },
  }),
};

/** Builds a graph model: add nodes, then call {@link GraphBuilder.model}. */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly weights: {
    name: string;
    shape: number[];
    dtype: 'float32' | 'int32';
    values: readonly number[];
  }[] = [];

  /** A float32 input of `shape` (-1 for the batch axis); returns its name. */
  placeholder(name: string, shape: readonly number[]): string {
    this.nodes.push({
      name,
      op: 'Placeholder',
      attr: { dtype: attr.float, shape: attr.shape(shape) },
    });
    return name;
  }

  /** A constant whose values live in the weight buffer; returns its name. */
  constant(
    name: string,
    shape: readonly number[],
    values: ArrayLike<number>,
    dtype: 'float32' | 'int32' = 'float32',
  ): string {
    const type = dtype === 'int32' ? attr.int32 : attr.float;
    this.weights.push({ name, shape: [...shape], dtype, values: Array.from(values) });
    this.nodes.push({
      name,
      op: 'Const',
      attr: {
        value: {
          tensor: {
            dtype: type.type,
            tensorShape: shape.length === 0 ? {} : attr.shape(shape).shape,
          },
        },
        dtype: type,
      },
    });
    return name;
  }

  /** An operator node; `attributes` in GraphDef JSON form (see {@link attr}); returns its name. */
  op(
    name: string,
    op: string,
    inputs: readonly string[],
    attributes: Record<string, unknown> = {},
  ) {
    this.nodes.push({ name, op, input: [...inputs], attr: { T: attr.float, ...attributes } });
    return name;
  }

  /** The model's artifacts: topology, weight specs and the weight buffer. */
  artifacts(): tf.io.ModelArtifacts {
    const count = this.weights.reduce((sum, w) => sum + w.values.length, 0);
    const view = new DataView(new ArrayBuffer(4 * count));
    let offset = 0;
    for (const w of this.weights) {
      for (const v of w.values) {
        if (w.dtype === 'int32') view.setInt32(offset, v, true);
        else view.setFloat32(offset, v, true);
        offset += 4;
      }
    }
    return {
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightSpecs: this.weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })),
      weightData: view.buffer,
      format: 'graph-model',
    };
  }

  /** The graph model, loaded synchronously from memory. */
  model(): AnyGraphModel {
    return tf.loadGraphModelSync(this.artifacts());
  }
}
