export { createAdmin } from './admin.js'
export type { Admin, ClusterDescription, EnsureTopicOptions, GroupDescription, TopicDescription, TopicLag } from './admin.js'
