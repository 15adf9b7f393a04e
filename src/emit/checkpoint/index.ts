/**
 * ONNX Runtime's training checkpoint (the `checkpoint` artifact): every parameter, trainable and
 * frozen, optional optimizer state and a property bag, in one FlatBuffers file.
 *
 *   encodeCheckpoint(input) → bytes      decodeCheckpoint(bytes) → Checkpoint
 *   readCheckpoint(path, deferFrom) → Checkpoint (large tensors left in the file until read)
 *   encodeCheckpointParts(input) → parts (large tensors by reference, for a gathering write)
 *   writeCheckpoint(path, input)         (atomic: a temporary file renamed into place)
 */
import { writeFileAtomically } from '../../load/index.js';
import { encodeCheckpointParts, type EncodeCheckpointOptions } from './encode.js';
import type { CheckpointInput } from './types.js';

export { encodeCheckpoint, encodeCheckpointParts, type CheckpointParts, type EncodeCheckpointOptions } from './encode.js';
export { decodeCheckpoint, readCheckpoint } from './decode.js';
export { CHECKPOINT_VERSION, FILE_IDENTIFIER, FIRST_MOMENT, MAX_CHECKPOINT_BYTES, OPTIMIZER_GROUP, SECOND_MOMENT } from './schema.js';
export type * from './types.js';

/** Encodes a checkpoint and writes it to `path`, replacing any file there atomically. */
export async function writeCheckpoint(path: string, input: CheckpointInput, options: EncodeCheckpointOptions & { durable?: boolean } = {}): Promise<void> {
  await writeFileAtomically(path, encodeCheckpointParts(input, options).parts, options.durable ?? false);
}
