/**
 * `@ctrd/filters` implements containerd's filter language, used by every List, Subscribe and
 * Metrics call that takes `filters`.
 *
 * ```
 * filters   := the request's repeated string: alternatives (OR); none, or "", selects everything
 * selectors := selector ("," selector)*            all must match (AND); "" selects everything
 * selector  := fieldpath [operator value]          no operator: the field must be present
 * fieldpath := field ("." field)*
 * field     := [A-Za-z0-9_]+ | "quoted"
 * operator  := "==" | "!=" | "~="                  ~= is a Go (RE2) regular expression, unanchored
 * value     := printable characters up to "," or a space | "quoted"
 *              (after ~= also /quoted/ or |quoted|, so a regexp need not escape `"`)
 * quoted    := Go string syntax: \" \\ \n \t \xHH \uHHHH \UHHHHHHHH \ooo …; a \ also escapes the quote
 * ```
 *
 * Whitespace between tokens is ignored. Examples: `name==foo`, `labels."foo.bar"==value`,
 * `name~=^docker\.io/`, `labels.gc`, `kind==committed,parent!=x`, `other=="too complex, yo"`.
 *
 * Absent fields: `==` requires the field; `!=` and `~=` compare an absent field as `""`.
 *
 * A syntax error is an `InvalidArgumentError` that points at the offending character:
 * `filters: parse error: [name >|=|< foo]: unsupported operator "="`.
 *
 * Objects are exposed to filters through an {@link Adaptor}: a function from a field path to the
 * field's value, `undefined` when absent. {@link objectAdaptor} and {@link adaptLabels} build the
 * common ones.
 *
 * @packageDocumentation
 */

export { type Adaptor, type Filter, type Operator, Selector, always, anyOf, allOf } from './filter.js';
export { parse, parseAll } from './parser.js';
export { adaptLabels, objectAdaptor, type ObjectFields } from './adaptors.js';
export { compileGoRegexp } from './regexp.js';
