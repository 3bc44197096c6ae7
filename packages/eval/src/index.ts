/**
 * @dlcv/eval: the homework's graders (digits, dann, fid/kid, face) and their reference networks
 * (the digit classifier, face-api's networks, Inception). ONNX export and ONNX Runtime are
 * @dlcv/core's.
 */
export { symmetricEigen, matmul, matmulTransB, type SymmetricEigen } from './linalg/eigen';
export * from './fid/frechet';
export { readNpz, writeNpz, type NpyArray } from './fid/npz';
export { readStatsFile, writeStatsFile, STATS_FORMAT, type StatsFile } from './fid/stats-file';
export { chooseFeatureNetwork, findInception, FEATURE_NETWORKS, type FeatureNetwork, type FeatureNetworkName } from './networks/feature-networks';
export { loadDigitClassifier, classifyDigits, datasetAccuracy, defaultDigitModel, defaultStrictDigitModel, type DigitClassifier } from './networks/digit-classifier';
export { buildDigitClassifier, HOMEWORK_CLASSIFIER, DIGIT_SCALING, type DigitClassifierConfig } from './networks/digit-classifier-model';
export { gradeDigits, digitLabelOf, type DigitsResult, type ClassAccuracy } from './graders/digits';
export { gradeDann, type DannResult } from './graders/dann';
export { gradeFid, saveFidStats, encodeFolder, fidLabel, type FidResult } from './graders/fid';
export { gradeFaces, padForDetector, FACE_DETECTOR, type FaceResult } from './graders/face';
export { GradeInputError, listFolder, type SkippedFile } from './files';
export { trainDigitClassifier, installClassifier, type TrainClassifierOptions, type TrainClassifierResult } from './train/train-classifier';
