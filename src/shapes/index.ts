export { inferShapes, inferShapeTable, shapeTable, TABLE_INPUT, type GraphShapes, type InferredShapes, type ShapeTable, type TableValue } from './infer.js';
export type { ValueShape } from './rule.js';
export * as dims from './dim.js';
