/**
 * Source instrumentation for guided fuzzing, in the manner of Jazzer.js's
 * Babel plugin but with TypeScript's own compiler API: a copy of a module
 * gets an edge counter at every branch point and a recording call around
 * every comparison, and the numbers and strings it compares against become
 * the fuzzer's dictionary. Only copies are instrumented (see
 * `instrumented_tree.ts`); the code that ships is never touched.
 *
 * What the instrumented copy calls, through the global `__fz` that
 * `feedback.ts` installs:
 *
 * - `__e[ID]++` (`__e` is `__fz.e`) at the entry of every function, both arms of every `if`
 *   (an `else` is added where there is none), every `case`, every loop body,
 *   every `catch`, both arms of `?:` and the right operand of `&&`, `||`,
 *   `??` (edges; counts wrap at 256 and are bucketed as AFL does);
 * - `(__fz.r ? __fz.eq(ID, a, b) : a === b)` (and `ne`, `lt`, `le`, `gt`,
 *   `ge`, `leq`, `lne` for `==`/`!=`) in place of `a === b` and its
 *   siblings: the same result, and while the engine records comparisons
 *   (`__fz.r`), the operands that differed;
 * - `__fz.sw(ID, x, () => [cases])` around a `switch` discriminant while
 *   recording.
 *
 * @module
 */

import ts from "typescript";

/** An instrumented module. */
export interface InstrumentedModule {
  /** The module's source with the instrumentation (TypeScript). */
  readonly code: string;
  /** 1-based line of each edge, in order of its identifier from `firstEdge`. */
  readonly edgeLines: number[];
  /** Number and string literals the module compares against or switches on. */
  readonly constants: (number | bigint | string)[];
}

const COMPARISONS: ReadonlyMap<ts.SyntaxKind, string> = new Map([
  [ts.SyntaxKind.EqualsEqualsEqualsToken, "eq"],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken, "ne"],
  [ts.SyntaxKind.EqualsEqualsToken, "leq"],
  [ts.SyntaxKind.ExclamationEqualsToken, "lne"],
  [ts.SyntaxKind.LessThanToken, "lt"],
  [ts.SyntaxKind.LessThanEqualsToken, "le"],
  [ts.SyntaxKind.GreaterThanToken, "gt"],
  [ts.SyntaxKind.GreaterThanEqualsToken, "ge"],
]);

const SHORT_CIRCUITS = new Set([
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
]);

/** A comparison with one of these on either side tells the fuzzer nothing. */
function uninformative(e: ts.Expression): boolean {
  return e.kind === ts.SyntaxKind.NullKeyword || e.kind === ts.SyntaxKind.TrueKeyword ||
    e.kind === ts.SyntaxKind.FalseKeyword ||
    (ts.isIdentifier(e) && e.text === "undefined") || ts.isTypeOfExpression(e);
}

/** The value of a literal (also a negated number), or undefined. */
function literalValue(e: ts.Expression): number | bigint | string | undefined {
  if (ts.isNumericLiteral(e)) return Number(e.text);
  if (ts.isBigIntLiteral(e)) return BigInt(e.text.slice(0, -1));
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
  if (
    ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken &&
    ts.isNumericLiteral(e.operand)
  ) return -Number(e.operand.text);
  if (ts.isParenthesizedExpression(e)) return literalValue(e.expression);
  return undefined;
}

/**
 * Instruments one module. Edge identifiers start at `firstEdge`;
 * comparison sites are numbered in the same space (they only name a site).
 */
export function instrumentModule(
  fileName: string,
  text: string,
  firstEdge: number,
): InstrumentedModule {
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.ESNext,
    true,
    ts.ScriptKind.TS,
  );
  const f = ts.factory;
  const edgeLines: number[] = [];
  const constants = new Set<number | bigint | string>();
  let lastLine = 1;
  /** The line of a node (of the original it came from; synthesized ones: the last seen). */
  const lineOf = (node: ts.Node) => {
    const original = ts.getOriginalNode(node);
    if (
      original.pos >= 0 && original.end >= original.pos && original.getSourceFile?.() === source
    ) {
      lastLine = source.getLineAndCharacterOfPosition(original.getStart(source)).line + 1;
    }
    return lastLine;
  };
  const fz = (name: string) => f.createPropertyAccessExpression(f.createIdentifier("__fz"), name);
  /** `__fz.e[ID]++` for a new edge at `node`. */
  const bump = (node: ts.Node): ts.Expression => {
    const id = firstEdge + edgeLines.length;
    edgeLines.push(lineOf(node));
    return f.createPostfixIncrement(
      f.createElementAccessExpression(f.createIdentifier("__e"), f.createNumericLiteral(id)),
    );
  };
  const bumpStatement = (node: ts.Node) => f.createExpressionStatement(bump(node));
  /** A statement (or none) as a block that first counts its edge. */
  const countedBlock = (node: ts.Node, s: ts.Statement | undefined): ts.Block => {
    if (s === undefined) return f.createBlock([bumpStatement(node)], true);
    if (ts.isBlock(s)) return f.updateBlock(s, [bumpStatement(s), ...s.statements]);
    return f.createBlock([bumpStatement(s), s], true);
  };
  const counted = (node: ts.Expression): ts.Expression =>
    f.createParenthesizedExpression(f.createCommaListExpression([bump(node), node]));
  const noteConstant = (e: ts.Expression) => {
    const v = literalValue(e);
    if (v !== undefined) constants.add(v);
  };

  const transformer: ts.TransformerFactory<ts.SourceFile> = (context) => {
    const visit = (node: ts.Node): ts.Node => {
      // Types, imports and declarations only: nothing runs there.
      if (
        ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node) || ts.isImportDeclaration(node) ||
        ts.isExportDeclaration(node) || ts.isEnumDeclaration(node)
      ) return node;
      if (ts.isIfStatement(node)) {
        const v = ts.visitEachChild(node, visit, context) as ts.IfStatement;
        return f.updateIfStatement(
          v,
          v.expression,
          countedBlock(node.thenStatement, v.thenStatement),
          countedBlock(node.elseStatement ?? node, v.elseStatement),
        );
      }
      if (ts.isConditionalExpression(node)) {
        const v = ts.visitEachChild(node, visit, context) as ts.ConditionalExpression;
        return f.updateConditionalExpression(
          v,
          v.condition,
          v.questionToken,
          counted(v.whenTrue),
          v.colonToken,
          counted(v.whenFalse),
        );
      }
      if (ts.isBinaryExpression(node)) {
        const op = node.operatorToken.kind;
        if (SHORT_CIRCUITS.has(op)) {
          const v = ts.visitEachChild(node, visit, context) as ts.BinaryExpression;
          return f.updateBinaryExpression(v, v.left, v.operatorToken, counted(v.right));
        }
        const name = COMPARISONS.get(op);
        if (name !== undefined && !uninformative(node.left) && !uninformative(node.right)) {
          noteConstant(node.left);
          noteConstant(node.right);
          const v = ts.visitEachChild(node, visit, context) as ts.BinaryExpression;
          const id = firstEdge + edgeLines.length;
          edgeLines.push(lineOf(node)); // a site number; its counter stays 0
          // `(__fz.r ? __fz.eq(ID, a, b) : a === b)`: one arm runs, so a and b are evaluated
          // once, and outside recording runs the comparison costs one property load more.
          return f.createParenthesizedExpression(f.createConditionalExpression(
            fz("r"),
            undefined,
            f.createCallExpression(fz(name), undefined, [
              f.createNumericLiteral(id),
              v.left,
              v.right,
            ]),
            undefined,
            f.updateBinaryExpression(v, v.left, v.operatorToken, v.right),
          ));
        }
      }
      if (ts.isSwitchStatement(node)) {
        for (const c of node.caseBlock.clauses) if (ts.isCaseClause(c)) noteConstant(c.expression);
        const v = ts.visitEachChild(node, visit, context) as ts.SwitchStatement;
        const cases = node.caseBlock.clauses.filter(ts.isCaseClause).map((c) => c.expression);
        const id = firstEdge + edgeLines.length;
        edgeLines.push(lineOf(node));
        // `__fz.r ? __fz.sw(ID, x, () => [cases]) : x`: x is evaluated once either way.
        const discriminant = f.createConditionalExpression(
          fz("r"),
          undefined,
          f.createCallExpression(fz("sw"), undefined, [
            f.createNumericLiteral(id),
            v.expression,
            f.createArrowFunction(
              undefined,
              undefined,
              [],
              undefined,
              undefined,
              f.createArrayLiteralExpression(cases),
            ),
          ]),
          undefined,
          v.expression,
        );
        return f.updateSwitchStatement(v, discriminant, v.caseBlock);
      }
      if (ts.isCaseClause(node) || ts.isDefaultClause(node)) {
        const v = ts.visitEachChild(node, visit, context) as ts.CaseClause | ts.DefaultClause;
        const statements = [bumpStatement(node), ...v.statements];
        return ts.isCaseClause(v)
          ? f.updateCaseClause(v, v.expression, statements)
          : f.updateDefaultClause(v, statements);
      }
      if (
        ts.isForStatement(node) || ts.isForOfStatement(node) || ts.isForInStatement(node) ||
        ts.isWhileStatement(node) || ts.isDoStatement(node)
      ) {
        const v = ts.visitEachChild(node, visit, context) as ts.IterationStatement;
        const body = countedBlock(node.statement, v.statement);
        if (ts.isForStatement(v)) {
          return f.updateForStatement(v, v.initializer, v.condition, v.incrementor, body);
        }
        if (ts.isForOfStatement(v)) {
          return f.updateForOfStatement(v, v.awaitModifier, v.initializer, v.expression, body);
        }
        if (ts.isForInStatement(v)) {
          return f.updateForInStatement(v, v.initializer, v.expression, body);
        }
        if (ts.isWhileStatement(v)) return f.updateWhileStatement(v, v.expression, body);
        return f.updateDoStatement(v as ts.DoStatement, body, (v as ts.DoStatement).expression);
      }
      if (ts.isCatchClause(node)) {
        const v = ts.visitEachChild(node, visit, context) as ts.CatchClause;
        return f.updateCatchClause(v, v.variableDeclaration, countedBlock(node.block, v.block));
      }
      if (
        (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) ||
          ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
          ts.isSetAccessorDeclaration(node) || ts.isFunctionExpression(node) ||
          ts.isArrowFunction(node)) && node.body !== undefined
      ) {
        const v = ts.visitEachChild(node, visit, context) as ts.FunctionLikeDeclaration;
        const body = v.body!;
        if (ts.isBlock(body)) {
          const counted = f.updateBlock(body, [bumpStatement(node), ...body.statements]);
          return replaceBody(f, v, counted);
        }
        return replaceBody(f, v, counted(body));
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (file) => ts.visitEachChild(file, visit, context);
  };

  const result = ts.transform(source, [transformer]);
  const printed = ts.createPrinter({ removeComments: false }).printFile(result.transformed[0]);
  result.dispose();
  const header = "// deno-lint-ignore-file\n// @ts-nocheck instrumented copy for fuzzing\n" +
    "const __fz = (globalThis as any).__fz;\nconst __e: Uint8Array = __fz.e;\n";
  return { code: header + printed, edgeLines, constants: [...constants] };
}

function replaceBody(
  f: ts.NodeFactory,
  v: ts.FunctionLikeDeclaration,
  body: ts.ConciseBody,
): ts.Node {
  const block = body as ts.Block;
  if (ts.isFunctionDeclaration(v)) {
    return f.updateFunctionDeclaration(
      v,
      v.modifiers,
      v.asteriskToken,
      v.name,
      v.typeParameters,
      v.parameters,
      v.type,
      block,
    );
  }
  if (ts.isMethodDeclaration(v)) {
    return f.updateMethodDeclaration(
      v,
      v.modifiers,
      v.asteriskToken,
      v.name,
      v.questionToken,
      v.typeParameters,
      v.parameters,
      v.type,
      block,
    );
  }
  if (ts.isConstructorDeclaration(v)) {
    return f.updateConstructorDeclaration(v, v.modifiers, v.parameters, block);
  }
  if (ts.isGetAccessorDeclaration(v)) {
    return f.updateGetAccessorDeclaration(v, v.modifiers, v.name, v.parameters, v.type, block);
  }
  if (ts.isSetAccessorDeclaration(v)) {
    return f.updateSetAccessorDeclaration(v, v.modifiers, v.name, v.parameters, block);
  }
  if (ts.isFunctionExpression(v)) {
    return f.updateFunctionExpression(
      v,
      v.modifiers,
      v.asteriskToken,
      v.name,
      v.typeParameters,
      v.parameters,
      v.type,
      block,
    );
  }
  const a = v as ts.ArrowFunction;
  return f.updateArrowFunction(
    a,
    a.modifiers,
    a.typeParameters,
    a.parameters,
    a.type,
    a.equalsGreaterThanToken,
    body,
  );
}
