// Child process for the kill test: saves ever newer checkpoints of a large model until killed.
// Every tensor of step s is filled with s, so the parent can check what it loads.
import * as tf from '@tensorflow/tfjs';
import { saveCheckpoint } from '../checkpoint';

async function main() {
  const runDir = process.argv[2] as string;
  await tf.setBackend('cpu');
  const vars = [tf.variable(tf.zeros([1024, 1024])), tf.variable(tf.zeros([512, 1024])), tf.variable(tf.zeros([7]))];
  for (let step = 1; ; step++) {
    vars.forEach((v) => v.assign(tf.fill(v.shape, step)));
    await saveCheckpoint(runDir, { models: { net: vars }, config: { size: 'large' }, state: { step, epoch: 0 } }, { keep: 2 });
    process.stdout.write(`saved ${step}\n`);
  }
}
void main();
