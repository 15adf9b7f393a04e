/**
 * The layout of ONNX Runtime's training checkpoint, written down by hand (no flatc): FlatBuffers
 * schema `ort_training_checkpoint.fbs`, namespace `onnxruntime.fbs`, file identifier `ODTC`,
 * version 2. See `../shared/docs/ort-training-contract.md`, section 1.
 *
 * On the wire a FlatBuffers table is a vtable of 16-bit field offsets, indexed by *slot*: the
 * field's position in the schema's declaration order. Only the slot numbers, the field types and
 * the defaults below matter for compatibility; names are for readers of this code.
 *
 * ```fbs
 * table Checkpoint {                 // root_type, file_identifier "ODTC"
 *   version: int32;                  // slot 0; must be 2
 *   module_state: ModuleState;       // slot 1
 *   optimizer_groups: [OptimizerGroup];  // slot 2
 *   property_bag: PropertyBag;       // slot 3
 * }
 * table ModuleState {
 *   requires_grad_params: [Tensor];  // slot 0; present even when empty
 *   frozen_params: [Tensor];         // slot 1; present even when empty
 *   is_nominal_state: bool;          // slot 2; default false
 *   has_external_data: bool;         // slot 3; default false
 * }
 * table Tensor {                     // from ort.fbs
 *   name: string;                    // slot 0
 *   doc_string: string;              // slot 1
 *   dims: [int64];                   // slot 2; present even for scalars
 *   data_type: int32;                // slot 3; ONNX TensorProto.DataType numbering
 *   raw_data: [uint8];               // slot 4; little-endian, packed
 *   string_data: [string];           // slot 5
 *   external_data_offset: int64 = -1;  // slot 6
 * }
 * table OptimizerGroup {
 *   group_name: string;              // slot 0; the runtime reads only "group0"
 *   step: int64;                     // slot 1
 *   initial_learning_rate: float;    // slot 2
 *   optimizer_states: [ParameterOptimizerState];  // slot 3
 * }
 * table ParameterOptimizerState {
 *   param_name: string;              // slot 0
 *   momentums: [Tensor];             // slot 1; AdamW: tensors named "momentum0", "momentum1"
 * }
 * table PropertyBag { ints: [IntProperty]; floats: [FloatProperty]; strings: [StringProperty]; }  // slots 0, 1, 2
 * table IntProperty { name: string; value: int64; }      // slots 0, 1
 * table FloatProperty { name: string; value: float; }    // slots 0, 1
 * table StringProperty { name: string; value: string; }  // slots 0, 1
 * ```
 */

/** The four bytes after the root offset. */
export const FILE_IDENTIFIER = 'ODTC';

/** The only version ONNX Runtime 1.19 accepts (1 and 3 are refused). */
export const CHECKPOINT_VERSION = 2;

/** A FlatBuffers file must stay below 2 GiB: offsets are signed 32-bit. */
export const MAX_CHECKPOINT_BYTES = 2 ** 31 - 1;

/** The optimizer group the runtime reads; any other is ignored. */
export const OPTIMIZER_GROUP = 'group0';

/** Names of the AdamW moment tensors in a ParameterOptimizerState. */
export const FIRST_MOMENT = 'momentum0';
export const SECOND_MOMENT = 'momentum1';

export const CheckpointSlot = { version: 0, moduleState: 1, optimizerGroups: 2, propertyBag: 3 } as const;
export const CHECKPOINT_FIELDS = 4;

export const ModuleStateSlot = { requiresGradParams: 0, frozenParams: 1, isNominalState: 2, hasExternalData: 3 } as const;
export const MODULE_STATE_FIELDS = 4;

export const TensorSlot = { name: 0, docString: 1, dims: 2, dataType: 3, rawData: 4, stringData: 5, externalDataOffset: 6 } as const;
export const TENSOR_FIELDS = 7;

export const OptimizerGroupSlot = { groupName: 0, step: 1, initialLearningRate: 2, optimizerStates: 3 } as const;
export const OPTIMIZER_GROUP_FIELDS = 4;

export const ParameterOptimizerStateSlot = { paramName: 0, momentums: 1 } as const;
export const PARAMETER_OPTIMIZER_STATE_FIELDS = 2;

export const PropertyBagSlot = { ints: 0, floats: 1, strings: 2 } as const;
export const PROPERTY_BAG_FIELDS = 3;

/** IntProperty, FloatProperty and StringProperty share this layout. */
export const PropertySlot = { name: 0, value: 1 } as const;
export const PROPERTY_FIELDS = 2;
