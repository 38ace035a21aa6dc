/**
 * convex-score: the public library API. One function per user job, options objects with
 * defaults, typed results that carry their certificates.
 */
export type { ScoreModel } from './models/score-model.js';
export {
  TwoLayerRelu,
  evaluate1d,
  evaluate1dDirect,
  smLoss,
  dsmLoss,
  type TwoLayerReluWeights,
} from './models/two-layer-relu.js';
export {
  buildUnivariateProgram,
  validateInput,
  smBetaThreshold,
  groupPoints,
  SM_SLOTS,
  DSM_SLOTS,
  type ScoreObjective,
  type UnivariateInput,
  type UnivariateProgram,
  type AtomSlot,
} from './programs/univariate.js';
export { linearRegime, linearScoreObjective, type LinearRegime } from './programs/closed-form.js';
export { solveUnivariate, SOLVER_NAMES, type SolverName, type SolveOptions, type UnivariateSolution } from './programs/solve.js';
export { recoverNetwork, breakpointOffset } from './programs/recover.js';
export {
  trainUnivariate,
  trainBetaPath,
  logSpacedBetas,
  type UnivariateTrainingResult,
  type PathResult,
} from './programs/train-univariate.js';
export type { Certificate, SolveStatus } from '../solvers/certificates.js';
export { Rng } from './util/random.js';
export { InputError } from './util/errors.js';
export { readSamples, readMatrix, parseSamples } from './io/data.js';
export { readNpy, writeNpy } from './io/npy.js';
export { writeFileAtomic } from './io/atomic.js';
export {
  MODEL_FORMAT,
  readModelFile,
  writeModelFile,
  parseModelFile,
  serializeModelFile,
  networkFromFile,
  networkToFile,
  type TwoLayerReluFile,
  type TrainingInfo,
} from './io/model-file.js';
export {
  DEMO_MIXTURE,
  sampleMixture1D,
  mixtureScore,
  mixtureLogDensity,
  mixtureScoreAtNoise,
  type Mixture1D,
} from './targets/mixture1d.js';
export { renderLinePlotSvg, type LineSeries, type LinePlotOptions } from './report/plot.js';
// quadratic programs: the OSQP algorithm (solvers/osqp), the JSON problem format, qpbenchmark's residuals
export { solveQp, type OsqpOptions, type OsqpResult, type OsqpStatus, type OsqpState, type PolishOutcome } from '../solvers/osqp/osqp.js';
export { DEFAULT_SETTINGS as OSQP_DEFAULT_SETTINGS, type OsqpSettings } from '../solvers/osqp/settings.js';
export { cscFromTriplets, type Csc, type QpProblem } from '../solvers/osqp/csc.js';
export { qpResiduals, qpObjective, isSolvedAt, type QpResiduals } from '../solvers/osqp/residuals.js';
export { readQpProblem, parseQpProblem, writeQpProblem, qpProblemToJson } from './io/qp-problem.js';
export { buildUnivariateQp, type UnivariateQp } from './programs/univariate-qp.js';
export { solveQpWith, QP_METHODS, type QpMethod, type QpSolveOptions, type QpSolveResult } from '../solvers/osqp/auto.js';
export { solveQpIpm, type IpmOptions, type IpmResult, type IpmStatus } from '../solvers/osqp/ipm.js';
// targets with exact scores and the reverse-time samplers (issue 4, in progress)
export { forwardProcess, timeGrid, checkTimeGrid, PROCESS_KINDS, GRID_KINDS, type ForwardProcess, type ProcessKind, type GridKind, type ProcessOptions } from './diffusion/process.js';
export { sample, sampleSteps, langevinSteps, runSteps, sdeStep, odeStep, langevinStep, langevinChain, correctorStepSize, SAMPLER_KINDS, type SamplerKind, type SampleOptions, type SampleResult } from './diffusion/samplers.js';
export { exactScoreModel, type Target } from './targets/target.js';
export { GaussianTarget } from './targets/gaussian.js';
export { MixtureTarget } from './targets/mixture.js';
export {
  mmd2,
  slicedW2,
  energyDistance,
  marginalW2,
  meanError,
  covError,
  sampleMean,
  sampleCov,
  scoreError,
  scoreErrorAt,
  w2sq1d,
  isingMetrics,
  spinAverages,
  type NoiseLevel,
  type ScoreErrorRow,
  type IsingSampleMetrics,
} from './metrics/sample-metrics.js';
export { parseTargetSpec, resolveTarget, targetMoments, BUILTIN_TARGETS } from './targets/spec.js';
export { GmrfTarget, type GmrfGraph } from './targets/gmrf.js';
export { EmpiricalTarget } from './targets/empirical.js';
export { IsingTarget, ISING_GRAPHS, isingEdges, type IsingGraph, type IsingOptions, type IsingEdges } from './targets/ising.js';
export { EnergyTarget } from './targets/energy.js';
export { IsingTreeTarget, type IsingTreeOptions } from './targets/ising-tree.js';
export { IsingMcmcTarget, type IsingMcmcOptions, type IsingMcmcReference } from './targets/ising-mcmc.js';

// multivariate (coordinate-wise) exact score programs
export { solveCoordinate, networkLoss, polishOnWorkingSet, RELAXATIONS, type Relaxation, type CoordinateProblem, type CoordinateSolution, type CoordinateUnits } from './programs/coordinatewise.js';
// the GPU path (WebGPU through Dawn; float32 kernels, float64 certificates on the CPU)
export { solveCoordinateGpu, gpuUnsupported, GPU_MAX_INPUTS, type GpuCoordinateSolution, type GpuPhaseReport } from './programs/coordinatewise-gpu.js';
export { acquireGpu, type GpuHandle, type GpuAcquisition } from '../solvers/gpu/webgpu.js';
export { GpuMaskedProgram, gpuGateSigns } from '../solvers/gpu/masked-gpu.js';
export { gpuSampledPatterns } from './programs/patterns-gpu.js';
export { GpuDenseMatrix } from '../solvers/gpu/dense-matvec.js';
export { solveLassoGpu, lassoWorkingSet } from '../solvers/gpu/lasso-gpu.js';
export {
  trainCoordinatewise,
  solveCoordinateLevels,
  validateJob,
  jobLevels,
  gateRecord,
  DEFAULT_GATE_STRATEGY,
  ADAPTIVE_BUDGET_FACTOR,
  type GateRecord,
  type JobPatterns,
  type CoordinatewiseJob,
  type CoordinatewiseResult,
  type CoordinatewiseSummary,
  type ProgramReport,
} from './programs/coordinatewise-train.js';
export { augmentedInputs, sampledPatterns, allPatterns, type ActivationPatterns } from './programs/patterns.js';
export { readGateFile, parseGateJson, parseGateNpy, gatesForCoordinates, type GateSets, type GateSet } from './io/gate-file.js';
export { graphAdjacency, neighbourhoods, parseAdjacency, readAdjacencyFile, graphDiameter, GRAPH_NAMES, type GraphName } from './programs/neighbourhoods.js';
export { CoordinatewiseRelu, type CoordinateNetwork } from './models/coordinatewise-relu.js';
export {
  COORDINATEWISE_FORMAT,
  parseCoordinatewiseFile,
  writeCoordinatewiseFile,
  serializeCoordinatewiseFile,
  modelFromCoordinatewiseFile,
  type CoordinatewiseFile,
} from './io/coordinatewise-file.js';
export { loadScoreModel, type LevelModel } from './baselines/model-files.js';
export { groupCertificate, groupPrimal, groupNormSum, type GroupProgram } from '../solvers/certificates.js';
export { proxGroupL2 } from '../solvers/prox.js';
export { augmentedLagrangian, type AlOptions, type AlResult } from '../solvers/al.js';
export { fistaSmooth, type SmoothProblem } from '../solvers/fista-smooth.js';
export { MaskedFeatureOperator } from '../solvers/masked-features.js';

// the graphical-model targets of Mei and Wu and the factorizable chain of Kwon et al. (issue 7)
export { GaussianBernoulliRbm, BinaryRbm, rbmMeanFieldDenoise, RBM_MAX_HIDDEN, type RbmOptions } from './targets/rbm.js';
export { SparseCodingTarget, SparseCodingReference, SPARSE_CODING_MAX_CODES, type SparseCodingOptions } from './targets/sparse-coding.js';
export { FactorChainTarget, type FactorChainOptions } from './targets/factor-chain.js';
export { targetConditioning, type Conditioning } from './targets/spec.js';

// the gradient-trained baselines (tfjs; issues 6 and 7)
export { useBackend, BACKENDS, type BackendChoice, type TfHandle } from './baselines/tf-backend.js';
export { trainingLoop, drawNoisyTriples, type LevelTrainOptions, type TrainRun, type CurvePoint } from './baselines/loop.js';
export { trainTwoLayerSgd, exactObjective, type NetProblem, type SgdOptions, type SgdResult } from './baselines/two-layer-sgd.js';
export { isingCouplings, oracleParams, viDenoise, ViUnrolledModel, trainViUnrolled, viToFile, viFromFile, VI_FORMAT, type ViParams, type ViTrainOptions } from './baselines/vi-unrolled.js';
export { orderedNeighbourhoods, OracleLocalizedScore, LocalizedModel, trainLocalized, localizedToFile, localizedFromFile, LOCALIZED_FORMAT, type LocalizedParams } from './baselines/localized.js';
export { trainUnrolled, denoiserLoss, DenoiserScoreModel, type UnrolledNet } from './baselines/unrolled.js';
export { rbmOracleParams, rbmUnrolledDenoise, RbmUnrolledModel, trainRbmUnrolled, rbmUnrolledToFile, rbmUnrolledFromFile, RBM_UNROLLED_FORMAT, type RbmUnrolledParams } from './baselines/rbm-unrolled.js';
export { istaOracleParams, istaDenoise, bernoulliGaussianMean, UnrolledIstaModel, trainUnrolledIsta, istaToFile, istaFromFile, UNROLLED_ISTA_FORMAT, type IstaParams } from './baselines/unrolled-ista.js';
export {
  chainWindows,
  WeightSharingModel,
  trainWeightSharing,
  weightSharingArchitecture,
  architectureParameterCount,
  mlpHiddenFor,
  weightSharingToFile,
  weightSharingFromFile,
  WEIGHT_SHARING_FORMAT,
  type WeightSharingParams,
  type WeightSharingTrainOptions,
} from './baselines/weight-sharing.js';

// the comparison harness (issue 9)
export { parseCompareConfig, modelNames, CompareConfigSchema, MODEL_KINDS, type CompareConfig, type ModelConfig } from './compare/config.js';
export { runComparison, configTarget, evaluationLevels, RESULTS_FORMAT, type CompareResults, type CompareOptions, type ModelRun, type ModelSummary, type Stat } from './compare/run.js';
export { writeReport, buildFigures, type Figure } from './compare/report.js';
export { sampleReport, type SampleReport } from './metrics/sample-report.js';
export { renderBarChartSvg, type Bar } from './report/plot.js';
