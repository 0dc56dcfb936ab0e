; One combined query for kpanalyze/parsing/c_extract.py.
; A query walks the whole tree once however many patterns it has, so every C fact
; comes from this single pass (see TREE_SITTER_NOTES.md: one query +32%, two +45%).
; Python filters the captures by position (inside or outside a function body).

; --- function definitions (also `MACRO(arg) { ... }` uses, told apart in Python)
(function_definition) @fdef

; --- direct calls: callee is a plain name
(call_expression
  function: (identifier) @call)

; --- preprocessor
(preproc_def name: (identifier) @macro)
(preproc_function_def) @fmacro

; --- file-scope candidates: macro uses `NAME(args);` / `NAME(args)`, declarations
(translation_unit (expression_statement (call_expression function: (identifier) arguments: (argument_list))) @use)
(preproc_if (expression_statement (call_expression function: (identifier) arguments: (argument_list))) @use)
(preproc_ifdef (expression_statement (call_expression function: (identifier) arguments: (argument_list))) @use)
(preproc_elif (expression_statement (call_expression function: (identifier) arguments: (argument_list))) @use)
(preproc_elifdef (expression_statement (call_expression function: (identifier) arguments: (argument_list))) @use)
(preproc_else (expression_statement (call_expression function: (identifier) arguments: (argument_list))) @use)
(ERROR (expression_statement (call_expression function: (identifier) arguments: (argument_list))) @use)
(ERROR (call_expression function: (identifier) arguments: (argument_list)) @use)
(macro_type_specifier) @mts

(translation_unit (declaration) @decl)
(preproc_if (declaration) @decl)
(preproc_ifdef (declaration) @decl)
(preproc_elif (declaration) @decl)
(preproc_elifdef (declaration) @decl)
(preproc_else (declaration) @decl)
(ERROR (declaration) @decl)

; --- references that are not calls: a function used as a value
(initializer_pair value: (identifier) @ref)
(initializer_list (identifier) @ref)
(init_declarator value: (identifier) @ref)
(assignment_expression right: (identifier) @ref)
(argument_list (identifier) @ref)
(pointer_expression argument: (identifier) @ref)
(return_statement (identifier) @ref)
(conditional_expression consequence: (identifier) @ref)
(conditional_expression alternative: (identifier) @ref)
(cast_expression value: (identifier) @ref)

(ERROR) @error
