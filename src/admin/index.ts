export { createAdmin } from './admin.js'
export type { Admin, EnsureTopicOptions, TopicDescription, TopicLag } from './admin.js'
