/**
 * tfjs' cpu backend greets Node users at its first write with a `console.warn` that recommends
 * `@tensorflow/tfjs-node` ("Hi, looks like you are running TensorFlow.js in Node.js"), which would
 * land in the output of whichever test makes the first tensor. Importing this module selects the
 * cpu backend and makes that first write now, with tfjs' `PROD` flag (which mutes tfjs'
 * warnings) set for that write alone, so every other warning of tfjs still shows. Import it
 * before anything that makes a tensor; tests then select their backend with `useBackend()`.
 */
import * as tf from '@tensorflow/tfjs';

const prod = tf.env().getBool('PROD');
tf.env().set('PROD', true);
try {
  // Synchronous for cpu. Selecting it also keeps tfjs from creating a second cpu backend (which
  // would greet again) when a test makes a tensor before choosing a backend.
  void tf.setBackend('cpu');
  tf.scalar(0).dispose();
} finally {
  tf.env().set('PROD', prod);
}
