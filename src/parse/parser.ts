/**
 * The .adp grammar as a Chevrotain CST parser: one method per production, no semantics. Meaning is
 * given by `cst-to-ast.ts`; the same grammar is written down as EBNF in `grammar/adp.ebnf` (a test
 * keeps the two in step).
 */
import type { CstNode, IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { CstParser, EOF } from './chevrotain.js';
import * as T from './tokens.js';

/** What each rule is expected to start with, in words, for "Expected …" messages. */
export const ruleDescriptions: Readonly<Record<string, string>> = {
  spec: 'a statement (import, use, adapter, place, train, target or seed)',
  statement: 'a statement (import, use, adapter, place, train, target or seed)',
  adapterSetting: "an adapter setting (size, reduction, activation, init, layernorm, hidden_layers, parallel, lora or ia3) or '}'",
  trainSetting: "a train setting (trainable, head, loss, optimizer or schedule) or '}'",
  trainableItem: "something to train (adapters, layernorm, head, embeddings or all)",
  layerSet: "layers ('all', an index like 3 or -1, or a range like 6..11)",
  value: 'a value (a number, a name, a quoted string or a parenthesised list)',
  siteName: "a site ('attention' or 'ffn')",
};

export class AdpParser extends CstParser {
  /**
   * `validate`: run Chevrotain's checks of the grammar (ambiguities, left recursion) while analysing
   * it. They never fail on this grammar once it is right, so parsing skips them (they cost a few
   * milliseconds of every start-up), and test/parse/grammar.test.ts runs them.
   */
  constructor(errorMessageProvider: IParserErrorMessageProvider, validate = false) {
    super([...T.allTokens], { recoveryEnabled: true, nodeLocationTracking: 'full', maxLookahead: 3, errorMessageProvider, skipValidations: !validate });
    this.performSelfAnalysis();
  }

  // spec = { statement } ;
  public spec = this.RULE('spec', () => {
    this.MANY(() => this.SUBRULE(this.statement));
  });

  // statement = importStatement | useStatement | adapterDeclaration | placeStatement | trainBlock | targetStatement | seedStatement ;
  public statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importStatement) },
      { ALT: () => this.SUBRULE(this.useStatement) },
      { ALT: () => this.SUBRULE(this.adapterDeclaration) },
      { ALT: () => this.SUBRULE(this.placeStatement) },
      { ALT: () => this.SUBRULE(this.trainBlock) },
      { ALT: () => this.SUBRULE(this.targetStatement) },
      { ALT: () => this.SUBRULE(this.seedStatement) },
      { ALT: () => this.SUBRULE(this.unknownStatement) },
    ]);
  });

  // unknownStatement = IDENTIFIER { any token that cannot start a statement } ;
  // Not part of the language: it swallows a misspelled statement so that the next one still parses
  // and the misspelling gets its own "did you mean" message.
  public unknownStatement = this.RULE('unknownStatement', () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => this.CONSUME(T.NotStatementStart));
  });

  // importStatement = "import" STRING ;
  public importStatement = this.RULE('importStatement', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLiteral);
  });

  // useStatement = "use" STRING ;
  public useStatement = this.RULE('useStatement', () => {
    this.CONSUME(T.Use);
    this.CONSUME(T.StringLiteral);
  });

  // adapterDeclaration = [ "override" ] "adapter" NAME "{" { adapterSetting } "}" ;
  public adapterDeclaration = this.RULE('adapterDeclaration', () => {
    this.OPTION(() => this.CONSUME(T.Override));
    this.CONSUME(T.Adapter);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.adapterSetting));
    this.CONSUME(T.RBrace);
  });

  // adapterSetting = "size" INTEGER | "reduction" INTEGER | "activation" NAME | "init" call
  //                | "layernorm" | "hidden_layers" INTEGER | "parallel" [ arguments ]
  //                | "lora" [ arguments ] | "ia3" ;
  public adapterSetting = this.RULE('adapterSetting', () => {
    this.OR([
      { ALT: () => { this.CONSUME(T.Size); this.CONSUME(T.IntegerLiteral); } },
      { ALT: () => { this.CONSUME(T.Reduction); this.CONSUME1(T.IntegerLiteral); } },
      { ALT: () => { this.CONSUME(T.Activation); this.CONSUME(T.Name); } },
      { ALT: () => { this.CONSUME(T.Init); this.SUBRULE(this.call); } },
      { ALT: () => this.CONSUME(T.LayerNorm) },
      { ALT: () => { this.CONSUME(T.HiddenLayers); this.CONSUME2(T.IntegerLiteral); } },
      { ALT: () => { this.CONSUME(T.Parallel); this.OPTION(() => this.SUBRULE(this.arguments)); } },
      { ALT: () => { this.CONSUME(T.Lora); this.OPTION1(() => this.SUBRULE1(this.arguments)); } },
      { ALT: () => this.CONSUME(T.Ia3) },
      { ALT: () => this.SUBRULE(this.unknownSetting) },
    ]);
  });

  // unknownSetting = IDENTIFIER [ looseValue ] ;
  // Not part of the language: a misspelled setting name, kept so its block still parses.
  public unknownSetting = this.RULE('unknownSetting', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.looseValue));
  });

  // looseValue = NUMBER [ "%" ] | STRING | IDENTIFIER [ arguments ] | "(" value { "," value } ")" ;
  public looseValue = this.RULE('looseValue', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.NumberLiteral);
          this.OPTION(() => this.CONSUME(T.Percent));
        },
      },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      {
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.OPTION1(() => this.SUBRULE(this.arguments));
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.value);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.SUBRULE1(this.value);
          });
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });

  // placeStatement = "place" NAME [ arguments ] ( "after" | "on" ) siteName { "," siteName } "in" ( "layers" | "layer" ) layerSet ;
  public placeStatement = this.RULE('placeStatement', () => {
    this.CONSUME(T.Place);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.arguments));
    this.OR([{ ALT: () => this.CONSUME(T.After) }, { ALT: () => this.CONSUME(T.On) }]);
    this.SUBRULE(this.siteName);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE1(this.siteName);
    });
    this.SUBRULE(this.layerClause);
  });

  // siteName = NAME ;
  public siteName = this.RULE('siteName', () => {
    this.CONSUME(T.Name);
  });

  // layerClause = "in" ( "layers" | "layer" ) layerSet ;
  public layerClause = this.RULE('layerClause', () => {
    this.CONSUME(T.In);
    this.OR([{ ALT: () => this.CONSUME(T.Layers) }, { ALT: () => this.CONSUME(T.Layer) }]);
    this.SUBRULE(this.layerSet);
  });

  // layerSet = "all" [ "except" layerList ] | layerList ;
  public layerSet = this.RULE('layerSet', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.All);
          this.OPTION(() => {
            this.CONSUME(T.Except);
            this.SUBRULE(this.layerList);
          });
        },
      },
      { ALT: () => this.SUBRULE1(this.layerList) },
    ]);
  });

  // layerList = layerItem { "," layerItem } ;
  public layerList = this.RULE('layerList', () => {
    this.SUBRULE(this.layerItem);
    // Greedy: after a comma, an integer continues the list (a trainable item is never a number).
    this.MANY({
      GATE: () => this.LA(2).tokenType === T.IntegerLiteral,
      DEF: () => {
        this.CONSUME(T.Comma);
        this.SUBRULE1(this.layerItem);
      },
    });
  });

  // layerItem = INTEGER [ ".." INTEGER ] ;
  public layerItem = this.RULE('layerItem', () => {
    this.CONSUME(T.IntegerLiteral);
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.CONSUME1(T.IntegerLiteral);
    });
  });

  // trainBlock = "train" "{" { trainSetting } "}" ;
  public trainBlock = this.RULE('trainBlock', () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.trainSetting));
    this.CONSUME(T.RBrace);
  });

  // trainSetting = "trainable" trainableItem { "," trainableItem } | "head" call | "loss" NAME
  //              | "optimizer" call | "schedule" call ;
  public trainSetting = this.RULE('trainSetting', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Trainable);
          this.SUBRULE(this.trainableItem);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.SUBRULE1(this.trainableItem);
          });
        },
      },
      { ALT: () => { this.CONSUME(T.Head); this.SUBRULE(this.call); } },
      { ALT: () => { this.CONSUME(T.Loss); this.CONSUME(T.Name); } },
      { ALT: () => { this.CONSUME(T.Optimizer); this.SUBRULE1(this.call); } },
      { ALT: () => { this.CONSUME(T.Schedule); this.SUBRULE2(this.call); } },
      { ALT: () => this.SUBRULE(this.unknownSetting) },
    ]);
  });

  // trainableItem = "all" | "head" | "layernorm" [ layerClause ] | IDENTIFIER ;
  public trainableItem = this.RULE('trainableItem', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.All) },
      { ALT: () => this.CONSUME(T.Head) },
      {
        ALT: () => {
          this.CONSUME(T.LayerNorm);
          this.OPTION(() => this.SUBRULE(this.layerClause));
        },
      },
      { ALT: () => this.CONSUME(T.Identifier) },
    ]);
  });

  // targetStatement = "target" NAME ;
  public targetStatement = this.RULE('targetStatement', () => {
    this.CONSUME(T.Target);
    this.CONSUME(T.Name);
  });

  // seedStatement = "seed" INTEGER ;
  public seedStatement = this.RULE('seedStatement', () => {
    this.CONSUME(T.Seed);
    this.CONSUME(T.IntegerLiteral);
  });

  // call = NAME [ arguments ] ;
  public call = this.RULE('call', () => {
    this.CONSUME(T.Name);
    this.OPTION(() => this.SUBRULE(this.arguments));
  });

  // arguments = "(" [ argument { "," argument } ] ")" ;
  public arguments = this.RULE('arguments', () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.argument);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE1(this.argument);
      });
    });
    this.CONSUME(T.RParen);
  });

  // argument = NAME value ;
  public argument = this.RULE('argument', () => {
    this.CONSUME(T.Name);
    this.SUBRULE(this.value);
  });

  // value = NUMBER [ "%" ] | STRING | NAME | "(" value { "," value } ")" ;
  public value = this.RULE('value', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.NumberLiteral);
          this.OPTION(() => this.CONSUME(T.Percent));
        },
      },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.Name) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.value);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.SUBRULE1(this.value);
          });
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });
}

export type { CstNode, IToken, TokenType };
export { EOF };
