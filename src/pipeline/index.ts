export { createPipeline } from './pipeline.js'
export type { Pipeline, PipelineMetrics } from './pipeline.js'
