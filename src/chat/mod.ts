/**
 * Chat on top of sessions: {@link ChatSession}, tool-call formats per template family and the
 * grammar that constrains calls to each function's schema.
 *
 * @module
 */
export {
  type ChatAnswer,
  type ChatFunction,
  type ChatPromptOptions,
  ChatSession,
  type ChatSessionOptions,
} from "./chat_session.ts";
export { type ResponseFormat, responseFormatGrammar, withGrammar } from "./constrain.ts";
export {
  detectToolCallFamily,
  type ParsedAnswer,
  parseToolCalls,
  type ToolCall,
  type ToolCallFamily,
} from "./tool_calls.ts";
export {
  toolCallGrammar,
  type ToolChoice,
  type ToolGrammar,
  type ToolGrammarOptions,
  type ToolSpec,
} from "./tool_grammar.ts";
export { type CallDelta, CallScanner } from "./tool_call_args.ts";
export {
  type ConversationMessage,
  renderConversation,
  type RenderConversationOptions,
} from "./render.ts";
export { type TemplateCaps, templateCaps } from "./template_caps.ts";
export { formatToolCalls, toolInstructions } from "./tool_call_text.ts";
export {
  type OpenAIToolCall,
  type StreamEnd,
  ToolCallStream,
  toOpenAIToolCalls,
} from "./tool_call_stream.ts";
