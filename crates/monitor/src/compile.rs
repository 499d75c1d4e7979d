//! The fast path of the rules: a rule's parsed CEL expression compiled into a
//! typed tree over the household's measures, evaluated without the interpreter's
//! dynamic values, maps of variables or allocations.
//!
//! The subset compiled: integer, decimal (double), bool and string literals; the
//! measures ([`VARIABLES`]); `+ - * / %`, unary `-`, the comparisons, `&& || !`,
//! `? :` and `round_div(a, b)`. Anything else (`in`, lists, maps, fields, macros,
//! other functions, unsigned and bytes literals, string concatenation, a `||` or
//! `? :` whose two sides have different types) leaves the whole expression to the
//! interpreter, with the reason.
//!
//! Exactness. The tree is built from the very AST the interpreter evaluates
//! (`cel_interpreter::Value::resolve`), and each operation does what the
//! interpreter does with the same operands: 64-bit integers, IEEE doubles, an int
//! compared with a double as `int as f64`, `&&` and `||` that stop at their left
//! side, `||` that gives its left operand itself when it is truthy, truthiness of
//! ints, doubles and strings. Where the interpreter fails (an integer overflow, a
//! division by zero, an operand of the wrong type, NaN in an ordering) or would
//! panic (negating `i64::MIN`), the compiled form gives `None` and the caller asks
//! the interpreter, so a failure is always the interpreter's own error. Types are
//! known when the rule is loaded (every measure has one type), so an operation on
//! operands of the wrong types compiles to a node that always defers.

use cel_parser::ast::{operators, CallExpr, Expr as Ast, IdedExpr};
use cel_parser::reference::Val;

/// The measures an expression may name, with their types, in slot order: every
/// measure but the text has an `i64` slot in [`Env`] (a bool as 0 or 1).
pub(crate) const VARIABLES: [(&str, Ty); 15] = [
    ("oop", Ty::Int),
    ("income", Ty::Int),
    ("consumption", Ty::Int),
    ("has_consumption", Ty::Bool),
    ("food", Ty::Int),
    ("budget", Ty::Int),
    ("size", Ty::Int),
    ("per_capita_income", Ty::Int),
    ("per_capita_after", Ty::Int),
    ("poor", Ty::Bool),
    ("year", Ty::Int),
    ("rural_income", Ty::Int),
    ("monitoring_line", Ty::Int),
    ("factor", Ty::Int),
    ("serious_diagnosis", Ty::Str),
];

/// The slots of [`Env`], in [`VARIABLES`]' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Slot {
    Oop,
    Income,
    Consumption,
    HasConsumption,
    Food,
    Budget,
    Size,
    PerCapitaIncome,
    PerCapitaAfter,
    Poor,
    Year,
    RuralIncome,
    MonitoringLine,
    Factor,
}

const SLOTS: usize = Slot::Factor as usize + 1;

/// A household's measures as compiled expressions read them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    slots: [i64; SLOTS],
    /// `serious_diagnosis`, `''` when none.
    text: &'a str,
}

impl<'a> Env<'a> {
    pub(crate) fn new(text: &'a str) -> Env<'a> {
        Env { slots: [0; SLOTS], text }
    }

    #[inline]
    pub(crate) fn set(&mut self, slot: Slot, value: i64) {
        self.slots[slot as usize] = value;
    }

    #[inline]
    fn get(&self, slot: u8) -> i64 {
        self.slots[slot as usize]
    }
}

/// The static type of a compiled expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Float,
    Bool,
    Str,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Int => "an int",
            Ty::Float => "a double",
            Ty::Bool => "a bool",
            Ty::Str => "a string",
        }
    }
}

/// What a compiled expression gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fast<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(&'a str),
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    root: Node,
}

impl Compiled {
    /// Compiles `expr`, or says why it stays with the interpreter.
    pub(crate) fn new(expr: &IdedExpr) -> Result<Compiled, String> {
        match compile(expr)? {
            Node::Fails => Err("it fails on every household (operands of the wrong types)".into()),
            root => Ok(Compiled { root }),
        }
    }

    /// The value, or `None` where the interpreter must decide (it fails there).
    #[inline]
    pub(crate) fn eval<'a>(&'a self, env: &Env<'a>) -> Option<Fast<'a>> {
        Some(match &self.root {
            Node::Bool(e) => Fast::Bool(e.eval(env)?),
            Node::Int(e) => Fast::Int(e.eval(env)?),
            Node::Str(e) => Fast::Text(e.eval(env)?),
            Node::Float(e) => Fast::Float(e.eval(env)?),
            Node::Fails => return None,
        })
    }

    /// The condition's value when it is a bool; `None` for the interpreter.
    #[inline]
    pub(crate) fn eval_bool(&self, env: &Env) -> Option<bool> {
        match &self.root {
            Node::Bool(e) => e.eval(env),
            _ => None,
        }
    }
}

/// A compiled expression of any type.
#[derive(Debug, Clone)]
enum Node {
    Int(IntE),
    Float(FloatE),
    Bool(BoolE),
    Str(StrE),
    /// Fails whenever it is evaluated (an operation on operands of wrong types).
    Fails,
}

impl Node {
    fn ty(&self) -> Option<Ty> {
        match self {
            Node::Int(_) => Some(Ty::Int),
            Node::Float(_) => Some(Ty::Float),
            Node::Bool(_) => Some(Ty::Bool),
            Node::Str(_) => Some(Ty::Str),
            Node::Fails => None,
        }
    }

    /// Evaluates for failure alone.
    fn check(&self, env: &Env) -> Option<()> {
        match self {
            Node::Int(e) => e.eval(env).map(drop),
            Node::Float(e) => e.eval(env).map(drop),
            Node::Bool(e) => e.eval(env).map(drop),
            Node::Str(e) => e.eval(env).map(drop),
            Node::Fails => None,
        }
    }

    /// The interpreter's truthiness (`Value::to_bool`).
    fn truthy(self) -> BoolE {
        match self {
            Node::Bool(e) => e,
            Node::Int(e) => BoolE::IntTruthy(Box::new(e)),
            Node::Float(e) => BoolE::FloatTruthy(Box::new(e)),
            Node::Str(e) => BoolE::StrTruthy(Box::new(e)),
            Node::Fails => BoolE::Fails,
        }
    }

    fn int(self) -> Box<IntE> {
        Box::new(match self {
            Node::Int(e) => e,
            _ => IntE::Fails,
        })
    }

    fn float(self) -> Box<FloatE> {
        Box::new(match self {
            Node::Float(e) => e,
            _ => FloatE::Fails,
        })
    }

    fn boolean(self) -> Box<BoolE> {
        Box::new(match self {
            Node::Bool(e) => e,
            _ => BoolE::Fails,
        })
    }

    fn text(self) -> Box<StrE> {
        Box::new(match self {
            Node::Str(e) => e,
            _ => StrE::Fails,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    #[inline]
    fn total<T: Ord>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }

    /// Doubles as the interpreter compares them: `==` and `!=` by IEEE equality,
    /// an ordering through `partial_cmp`, which fails on NaN.
    #[inline]
    fn float(self, a: f64, b: f64) -> Option<bool> {
        use std::cmp::Ordering::{Greater, Less};
        Some(match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a.partial_cmp(&b)? == Less,
            Cmp::Le => a.partial_cmp(&b)? != Greater,
            Cmp::Gt => a.partial_cmp(&b)? == Greater,
            Cmp::Ge => a.partial_cmp(&b)? != Less,
        })
    }
}

type B<T> = Box<T>;

#[derive(Debug, Clone)]
enum IntE {
    Lit(i64),
    Var(u8),
    Arith(Arith, B<IntE>, B<IntE>),
    /// `a * k` with `a` a measure and `k` a literal: the rules' `oop * 10000`.
    MulVarLit(u8, i64),
    /// `a * b`, both measures: the rules' `budget * factor`.
    MulVarVar(u8, u8),
    Neg(B<IntE>),
    RoundDiv(B<IntE>, B<IntE>),
    Cond(B<BoolE>, B<IntE>, B<IntE>),
    Or(B<IntE>, B<IntE>),
    Fails,
}

impl IntE {
    /// The leaves in line, the rest by a call.
    #[inline(always)]
    fn eval(&self, env: &Env) -> Option<i64> {
        match self {
            IntE::Lit(v) => Some(*v),
            IntE::Var(s) => Some(env.get(*s)),
            IntE::MulVarLit(s, k) => env.get(*s).checked_mul(*k),
            IntE::MulVarVar(a, b) => env.get(*a).checked_mul(env.get(*b)),
            _ => self.eval_node(env),
        }
    }

    #[inline(never)]
    fn eval_node(&self, env: &Env) -> Option<i64> {
        match self {
            IntE::Lit(_) | IntE::Var(_) | IntE::MulVarLit(..) | IntE::MulVarVar(..) => self.eval(env),
            IntE::Arith(op, a, b) => {
                let (a, b) = (a.eval(env)?, b.eval(env)?);
                match op {
                    Arith::Add => a.checked_add(b),
                    Arith::Sub => a.checked_sub(b),
                    Arith::Mul => a.checked_mul(b),
                    // checked_div and checked_rem are None for a zero divisor and
                    // for i64::MIN by -1: the interpreter's errors.
                    Arith::Div => a.checked_div(b),
                    Arith::Rem => a.checked_rem(b),
                }
            }
            // The interpreter negates with `-i`, which panics on i64::MIN in a
            // debug build and wraps in a release one: it decides.
            IntE::Neg(a) => a.eval(env)?.checked_neg(),
            IntE::RoundDiv(a, b) => crate::rules::round_div(a.eval(env)?, b.eval(env)?).ok(),
            IntE::Cond(c, a, b) => {
                if c.eval(env)? {
                    a.eval(env)
                } else {
                    b.eval(env)
                }
            }
            IntE::Or(a, b) => match a.eval(env)? {
                0 => b.eval(env),
                a => Some(a),
            },
            IntE::Fails => None,
        }
    }
}

#[derive(Debug, Clone)]
enum FloatE {
    Lit(f64),
    /// `+ - * /`; `%` on doubles fails in the interpreter.
    Arith(Arith, B<FloatE>, B<FloatE>),
    Neg(B<FloatE>),
    Cond(B<BoolE>, B<FloatE>, B<FloatE>),
    Or(B<FloatE>, B<FloatE>),
    Fails,
}

impl FloatE {
    fn eval(&self, env: &Env) -> Option<f64> {
        match self {
            FloatE::Lit(v) => Some(*v),
            FloatE::Arith(op, a, b) => {
                let (a, b) = (a.eval(env)?, b.eval(env)?);
                match op {
                    Arith::Add => Some(a + b),
                    Arith::Sub => Some(a - b),
                    Arith::Mul => Some(a * b),
                    Arith::Div => Some(a / b),
                    Arith::Rem => None,
                }
            }
            FloatE::Neg(a) => Some(-a.eval(env)?),
            FloatE::Cond(c, a, b) => {
                if c.eval(env)? {
                    a.eval(env)
                } else {
                    b.eval(env)
                }
            }
            FloatE::Or(a, b) => {
                let a = a.eval(env)?;
                if a != 0.0 {
                    Some(a)
                } else {
                    b.eval(env)
                }
            }
            FloatE::Fails => None,
        }
    }
}

#[derive(Debug, Clone)]
enum StrE {
    Lit(Box<str>),
    /// `serious_diagnosis`.
    Text,
    Cond(B<BoolE>, B<StrE>, B<StrE>),
    Or(B<StrE>, B<StrE>),
    Fails,
}

impl StrE {
    fn eval<'a>(&'a self, env: &Env<'a>) -> Option<&'a str> {
        match self {
            StrE::Lit(s) => Some(&**s),
            StrE::Text => Some(env.text),
            StrE::Cond(c, a, b) => {
                if c.eval(env)? {
                    a.eval(env)
                } else {
                    b.eval(env)
                }
            }
            StrE::Or(a, b) => {
                let a = a.eval(env)?;
                if !a.is_empty() {
                    Some(a)
                } else {
                    b.eval(env)
                }
            }
            StrE::Fails => None,
        }
    }
}

#[derive(Debug, Clone)]
enum BoolE {
    Lit(bool),
    Var(u8),
    Not(B<BoolE>),
    And(B<BoolE>, B<BoolE>),
    Or(B<BoolE>, B<BoolE>),
    Cond(B<BoolE>, B<BoolE>, B<BoolE>),
    IntTruthy(B<IntE>),
    FloatTruthy(B<FloatE>),
    StrTruthy(B<StrE>),
    CmpInt(Cmp, B<IntE>, B<IntE>),
    CmpFloat(Cmp, B<FloatE>, B<FloatE>),
    CmpIntFloat(Cmp, B<IntE>, B<FloatE>),
    CmpFloatInt(Cmp, B<FloatE>, B<IntE>),
    CmpStr(Cmp, B<StrE>, B<StrE>),
    CmpBool(Cmp, B<BoolE>, B<BoolE>),
    /// `==` or `!=` of operands of types that never compare equal: both are
    /// evaluated, the answer is known.
    Unequal(B<Node>, B<Node>, bool),
    Fails,
}

impl BoolE {
    /// Comparisons of ints in line (with their leaves), the rest by a call.
    #[inline(always)]
    fn eval(&self, env: &Env) -> Option<bool> {
        match self {
            BoolE::CmpInt(op, a, b) => {
                let a = a.eval(env)?;
                Some(op.total(a, b.eval(env)?))
            }
            _ => self.eval_node(env),
        }
    }

    #[inline(never)]
    fn eval_node(&self, env: &Env) -> Option<bool> {
        match self {
            BoolE::Lit(v) => Some(*v),
            BoolE::Var(s) => Some(env.get(*s) != 0),
            BoolE::Not(a) => Some(!a.eval(env)?),
            BoolE::And(a, b) => {
                if a.eval(env)? {
                    b.eval(env)
                } else {
                    Some(false)
                }
            }
            BoolE::Or(a, b) => {
                if a.eval(env)? {
                    Some(true)
                } else {
                    b.eval(env)
                }
            }
            BoolE::Cond(c, a, b) => {
                if c.eval(env)? {
                    a.eval(env)
                } else {
                    b.eval(env)
                }
            }
            BoolE::IntTruthy(a) => Some(a.eval(env)? != 0),
            BoolE::FloatTruthy(a) => Some(a.eval(env)? != 0.0),
            BoolE::StrTruthy(a) => Some(!a.eval(env)?.is_empty()),
            BoolE::CmpInt(op, a, b) => {
                let a = a.eval(env)?;
                Some(op.total(a, b.eval(env)?))
            }
            BoolE::CmpFloat(op, a, b) => {
                let a = a.eval(env)?;
                op.float(a, b.eval(env)?)
            }
            BoolE::CmpIntFloat(op, a, b) => {
                let a = a.eval(env)? as f64;
                op.float(a, b.eval(env)?)
            }
            BoolE::CmpFloatInt(op, a, b) => {
                let a = a.eval(env)?;
                op.float(a, b.eval(env)? as f64)
            }
            BoolE::CmpStr(op, a, b) => {
                let a = a.eval(env)?;
                Some(op.total(a, b.eval(env)?))
            }
            BoolE::CmpBool(op, a, b) => {
                let a = a.eval(env)?;
                Some(op.total(a, b.eval(env)?))
            }
            BoolE::Unequal(a, b, answer) => {
                a.check(env)?;
                b.check(env)?;
                Some(*answer)
            }
            BoolE::Fails => None,
        }
    }
}

/// Compiles one node of the AST, in the order of the interpreter's
/// `Value::resolve`.
fn compile(e: &IdedExpr) -> Result<Node, String> {
    match &e.expr {
        Ast::Literal(v) => match v {
            Val::Int(i) => Ok(Node::Int(IntE::Lit(*i))),
            Val::Double(d) => Ok(Node::Float(FloatE::Lit(*d))),
            Val::Boolean(b) => Ok(Node::Bool(BoolE::Lit(*b))),
            Val::String(s) => Ok(Node::Str(StrE::Lit(s.as_str().into()))),
            Val::UInt(_) => Err("an unsigned literal is outside the compiled subset".into()),
            Val::Bytes(_) => Err("a bytes literal is outside the compiled subset".into()),
            Val::Null => Err("null is outside the compiled subset".into()),
        },
        Ast::Ident(name) => match VARIABLES.iter().position(|(v, _)| v == name) {
            Some(slot) => Ok(match VARIABLES[slot].1 {
                Ty::Int => Node::Int(IntE::Var(slot as u8)),
                Ty::Bool => Node::Bool(BoolE::Var(slot as u8)),
                Ty::Str => Node::Str(StrE::Text),
                Ty::Float => unreachable!("no measure is a double"),
            }),
            None => Err(format!("`{name}` is not a measure")),
        },
        Ast::Call(call) => compile_call(call),
        Ast::List(_) => Err("a list is outside the compiled subset".into()),
        Ast::Map(_) | Ast::Struct(_) => Err("a map is outside the compiled subset".into()),
        Ast::Select(_) => Err("a field selection is outside the compiled subset".into()),
        Ast::Comprehension(_) => Err("a macro is outside the compiled subset".into()),
        Ast::Unspecified => Err("an empty expression".into()),
    }
}

fn compile_call(call: &CallExpr) -> Result<Node, String> {
    let name = call.func_name.as_str();
    if call.target.is_some() {
        return Err(format!("the method call `.{name}()` is outside the compiled subset"));
    }
    let args = &call.args;
    if args.len() == 3 && name == operators::CONDITIONAL {
        return conditional(compile(&args[0])?, compile(&args[1])?, compile(&args[2])?);
    }
    if args.len() == 2 {
        let arith = match name {
            operators::ADD => Some(Arith::Add),
            operators::SUBSTRACT => Some(Arith::Sub),
            operators::MULTIPLY => Some(Arith::Mul),
            operators::DIVIDE => Some(Arith::Div),
            operators::MODULO => Some(Arith::Rem),
            _ => None,
        };
        let cmp = match name {
            operators::EQUALS => Some(Cmp::Eq),
            operators::NOT_EQUALS => Some(Cmp::Ne),
            operators::LESS => Some(Cmp::Lt),
            operators::LESS_EQUALS => Some(Cmp::Le),
            operators::GREATER => Some(Cmp::Gt),
            operators::GREATER_EQUALS => Some(Cmp::Ge),
            _ => None,
        };
        let known = arith.is_some()
            || cmp.is_some()
            || matches!(name, operators::LOGICAL_AND | operators::LOGICAL_OR | "round_div");
        if !known {
            return Err(format!("{} is outside the compiled subset", describe(name)));
        }
        let (a, b) = (compile(&args[0])?, compile(&args[1])?);
        if let Some(op) = arith {
            return arithmetic(op, a, b);
        }
        if let Some(op) = cmp {
            return Ok(compare(op, a, b));
        }
        return Ok(match name {
            operators::LOGICAL_AND => match a {
                // The interpreter evaluates the left side first, and fails with it.
                Node::Fails => Node::Fails,
                a => Node::Bool(BoolE::And(Box::new(a.truthy()), Box::new(b.truthy()))),
            },
            operators::LOGICAL_OR => return or(a, b),
            // round_div(a, b): two ints, or the function's argument error.
            _ => match (a, b) {
                (Node::Int(a), Node::Int(b)) => Node::Int(IntE::RoundDiv(Box::new(a), Box::new(b))),
                _ => Node::Fails,
            },
        });
    }
    if args.len() == 1 && (name == operators::LOGICAL_NOT || name == operators::NEGATE) {
        let a = compile(&args[0])?;
        return Ok(match (name, a) {
            (_, Node::Fails) => Node::Fails,
            (operators::LOGICAL_NOT, a) => Node::Bool(BoolE::Not(Box::new(a.truthy()))),
            (_, Node::Int(a)) => Node::Int(IntE::Neg(Box::new(a))),
            (_, Node::Float(a)) => Node::Float(FloatE::Neg(Box::new(a))),
            // The interpreter's unsupported unary operator.
            _ => Node::Fails,
        });
    }
    Err(format!("{} with {} arguments is outside the compiled subset", describe(name), args.len()))
}

fn describe(name: &str) -> String {
    match name {
        operators::IN => "`in`".into(),
        operators::INDEX | operators::OPT_INDEX => "indexing".into(),
        _ if name.starts_with('_') || name.starts_with('@') || name.ends_with('_') => format!("the operator {name}"),
        _ => format!("the function `{name}`"),
    }
}

fn arithmetic(op: Arith, a: Node, b: Node) -> Result<Node, String> {
    Ok(match (a, b) {
        (Node::Int(a), Node::Int(b)) => Node::Int(match (op, a, b) {
            (Arith::Mul, IntE::Var(s), IntE::Lit(k)) => IntE::MulVarLit(s, k),
            (Arith::Mul, IntE::Var(s), IntE::Var(t)) => IntE::MulVarVar(s, t),
            (op, a, b) => IntE::Arith(op, Box::new(a), Box::new(b)),
        }),
        (Node::Float(_), Node::Float(_)) if op == Arith::Rem => Node::Fails,
        (Node::Float(a), Node::Float(b)) => Node::Float(FloatE::Arith(op, Box::new(a), Box::new(b))),
        (Node::Str(_), Node::Str(_)) if op == Arith::Add => {
            return Err("joining strings with `+` is outside the compiled subset".into())
        }
        // Any other pair is the interpreter's unsupported binary operator (and a
        // failing operand fails first).
        _ => Node::Fails,
    })
}

fn compare(op: Cmp, a: Node, b: Node) -> Node {
    let equality = matches!(op, Cmp::Eq | Cmp::Ne);
    Node::Bool(match (a, b) {
        (Node::Fails, _) | (_, Node::Fails) => return Node::Fails,
        (Node::Int(a), Node::Int(b)) => BoolE::CmpInt(op, Box::new(a), Box::new(b)),
        (Node::Float(a), Node::Float(b)) => BoolE::CmpFloat(op, Box::new(a), Box::new(b)),
        (Node::Int(a), Node::Float(b)) => BoolE::CmpIntFloat(op, Box::new(a), Box::new(b)),
        (Node::Float(a), Node::Int(b)) => BoolE::CmpFloatInt(op, Box::new(a), Box::new(b)),
        (Node::Str(a), Node::Str(b)) => BoolE::CmpStr(op, Box::new(a), Box::new(b)),
        (Node::Bool(a), Node::Bool(b)) => BoolE::CmpBool(op, Box::new(a), Box::new(b)),
        // Values of other types are never equal, and cannot be ordered.
        (a, b) if equality => BoolE::Unequal(Box::new(a), Box::new(b), op == Cmp::Ne),
        _ => return Node::Fails,
    })
}

/// `a || b`: `a` itself when it is truthy, else `b` itself.
fn or(a: Node, b: Node) -> Result<Node, String> {
    Ok(match (a, b) {
        (Node::Fails, _) => Node::Fails,
        (a, b) if b.ty().is_some() && a.ty() != b.ty() => return Err(mixed("||", &a, &b)),
        (Node::Bool(a), b) => Node::Bool(BoolE::Or(Box::new(a), b.boolean())),
        (Node::Int(a), b) => Node::Int(IntE::Or(Box::new(a), b.int())),
        (Node::Float(a), b) => Node::Float(FloatE::Or(Box::new(a), b.float())),
        (Node::Str(a), b) => Node::Str(StrE::Or(Box::new(a), b.text())),
    })
}

/// `c ? a : b`.
fn conditional(c: Node, a: Node, b: Node) -> Result<Node, String> {
    if matches!(c, Node::Fails) {
        return Ok(Node::Fails);
    }
    let c = Box::new(c.truthy());
    let ty = match (a.ty(), b.ty()) {
        (Some(x), Some(y)) if x != y => return Err(mixed("? :", &a, &b)),
        (None, None) => return Ok(Node::Fails),
        (x, y) => x.or(y).expect("one side has a type"),
    };
    Ok(match ty {
        Ty::Int => Node::Int(IntE::Cond(c, a.int(), b.int())),
        Ty::Float => Node::Float(FloatE::Cond(c, a.float(), b.float())),
        Ty::Bool => Node::Bool(BoolE::Cond(c, a.boolean(), b.boolean())),
        Ty::Str => Node::Str(StrE::Cond(c, a.text(), b.text())),
    })
}

fn mixed(op: &str, a: &Node, b: &Node) -> String {
    let name = |n: &Node| n.ty().map(Ty::name).unwrap_or("a failure");
    format!("`{op}` of {} and {} has no one type; the interpreter decides", name(a), name(b))
}

#[cfg(test)]
mod tests {
    //! The compiled path against the interpreter: the same AST, the same
    //! measures, the same outcome.

    use super::*;
    use crate::rules::base_context;
    use cel_interpreter::{Context, ExecutionError, Value};
    use proptest::prelude::*;
    use std::sync::Arc;

    /// A household's measures, in [`VARIABLES`]' order (bools as 0 or 1), and the text.
    #[derive(Debug, Clone)]
    struct Measures {
        slots: [i64; SLOTS],
        text: String,
    }

    impl Measures {
        fn env(&self) -> Env<'_> {
            Env { slots: self.slots, text: &self.text }
        }

        fn context(&self) -> Context<'static> {
            let mut ctx = base_context();
            for (i, (name, ty)) in VARIABLES.iter().enumerate() {
                let v = match ty {
                    Ty::Int => Value::Int(self.slots[i]),
                    Ty::Bool => Value::Bool(self.slots[i] != 0),
                    Ty::Str => Value::String(Arc::new(self.text.clone())),
                    Ty::Float => unreachable!(),
                };
                ctx.add_variable_from_value(*name, v);
            }
            ctx
        }
    }

    fn parse(source: &str) -> IdedExpr {
        cel_parser::Parser::default().parse(source).unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    /// The interpreter's outcome; a panic (negating i64::MIN in a debug build) as
    /// an error.
    fn interpret(ast: &IdedExpr, m: &Measures) -> Result<Value, String> {
        static QUIET: std::sync::Once = std::sync::Once::new();
        QUIET.call_once(|| {
            // That panic is expected here: keep it out of the test's output.
            let report = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !info.to_string().contains("attempt to negate with overflow") {
                    report(info)
                }
            }));
        });
        let ctx = m.context();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Value::resolve(ast, &ctx))) {
            Ok(r) => r.map_err(|e: ExecutionError| e.to_string()),
            Err(_) => Err("panicked".into()),
        }
    }

    fn same(fast: Fast, cel: &Value) -> bool {
        match (fast, cel) {
            (Fast::Int(a), Value::Int(b)) => a == *b,
            (Fast::Bool(a), Value::Bool(b)) => a == *b,
            (Fast::Text(a), Value::String(b)) => a == b.as_str(),
            (Fast::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            _ => false,
        }
    }

    /// Checks one expression over measures; false when it is not compiled.
    fn agree(source: &str, measures: &[Measures]) -> Result<bool, TestCaseError> {
        let ast = parse(source);
        let Ok(compiled) = Compiled::new(&ast) else {
            return Ok(false);
        };
        for m in measures {
            let fast = compiled.eval(&m.env());
            let cel = interpret(&ast, m);
            match (fast, &cel) {
                (Some(f), Ok(v)) => prop_assert!(same(f, v), "{source} over {m:?}: compiled {f:?}, CEL {v:?}"),
                (Some(f), Err(e)) => prop_assert!(false, "{source} over {m:?}: compiled {f:?}, CEL fails: {e}"),
                (None, Err(_)) => {}
                // The compiled form defers only where the interpreter fails; in a
                // release build the interpreter wraps `-i64::MIN` where the
                // compiled form leaves it to the interpreter.
                (None, Ok(v)) => prop_assert!(
                    !cfg!(debug_assertions) && source.contains('-'),
                    "{source} over {m:?}: compiled defers, CEL gives {v:?}"
                ),
            }
            if let (Some(b), Ok(Value::Bool(_))) = (compiled.eval_bool(&m.env()), &cel) {
                prop_assert!(same(Fast::Bool(b), cel.as_ref().unwrap()));
            }
        }
        Ok(true)
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum T {
        I,
        F,
        B,
        S,
    }

    /// An expression's source and the type it was built to have.
    type E = (T, String);

    /// `e` made to have type `t`, through a comparison or a conditional.
    fn to(t: T, e: &E) -> String {
        let s = &e.1;
        match (e.0, t) {
            (a, b) if a == b => s.clone(),
            (T::I, T::B) => format!("({s} > 0)"),
            (T::F, T::B) => format!("({s} <= 0.5)"),
            (T::S, T::B) => format!("({s} == 'C16.9')"),
            (T::B, T::I) => format!("({s} ? 1 : 0)"),
            (T::F, T::I) => format!("({s} < 0.0 ? -7 : 10000)"),
            (T::S, T::I) => format!("({s} >= 'B' ? 3 : -2)"),
            (T::I, T::F) => format!("({s} != 0 ? 2.5 : -0.5)"),
            (T::B, T::F) => format!("({s} ? 1.0 : 0.0)"),
            (T::S, T::F) => format!("({s} == '' ? 0.0 : 1e300)"),
            (T::I, T::S) => format!("({s} > 1 ? serious_diagnosis : 'A')"),
            (T::B, T::S) => format!("({s} ? '' : 'C16.9')"),
            (T::F, T::S) => format!("({s} > 1.0 ? 'B' : serious_diagnosis)"),
            _ => unreachable!(),
        }
    }

    fn ty() -> impl Strategy<Value = T> {
        prop_oneof![4 => Just(T::I), 1 => Just(T::F), 2 => Just(T::B), 1 => Just(T::S)]
    }

    fn leaf() -> impl Strategy<Value = E> {
        const INTS: [&str; 11] =
            ["0", "1", "-1", "2", "3", "7", "10000", "-5000", "9223372036854775807", "-9223372036854775808", "0x10"];
        const FLOATS: [&str; 7] = ["0.0", "0.5", "1.5", "-2.25", "1e300", "3.0", "-0.0"];
        const STRINGS: [&str; 4] = ["''", "'C16.9'", "'A'", "\"B\""];
        prop_oneof![
            4 => proptest::sample::select(&INTS[..]).prop_map(|s| (T::I, s.to_string())),
            1 => proptest::sample::select(&FLOATS[..]).prop_map(|s| (T::F, s.to_string())),
            1 => proptest::sample::select(&["true", "false"][..]).prop_map(|s| (T::B, s.to_string())),
            1 => proptest::sample::select(&STRINGS[..]).prop_map(|s| (T::S, s.to_string())),
            8 => proptest::sample::select(&VARIABLES[..]).prop_map(|(name, ty)| {
                let t = match ty {
                    Ty::Int => T::I,
                    Ty::Bool => T::B,
                    Ty::Str => T::S,
                    Ty::Float => T::F,
                };
                (t, name.to_string())
            }),
        ]
    }

    /// Random expressions of the compiled subset, mostly well typed: operands are
    /// made to fit their operator, except now and then (`raw`) to reach the
    /// interpreter's type errors.
    fn expr() -> impl Strategy<Value = E> {
        leaf().prop_recursive(5, 64, 3, |inner| {
            let arith = proptest::sample::select(&["+", "-", "*", "/", "%"][..]);
            let cmp = proptest::sample::select(&["==", "!=", "<", "<=", ">", ">="][..]);
            let raw = proptest::bool::weighted(0.1);
            prop_oneof![
                4 => (inner.clone(), arith, inner.clone(), prop_oneof![4 => Just(T::I), 1 => Just(T::F)], raw)
                    .prop_map(|(a, op, b, t, raw)| {
                        let (a, b) = if raw { (a.1, b.1) } else { (to(t, &a), to(t, &b)) };
                        (t, format!("({a} {op} {b})"))
                    }),
                3 => (inner.clone(), cmp.clone(), inner.clone(), ty(), raw).prop_map(|(a, op, b, t, raw)| {
                    let (a, b) = if raw { (a.1, b.1) } else { (to(t, &a), to(t, &b)) };
                    (T::B, format!("({a} {op} {b})"))
                }),
                // Mixed ints and doubles compare without conversion.
                1 => (inner.clone(), cmp, inner.clone()).prop_map(|(a, op, b)| {
                    (T::B, format!("({} {op} {})", to(T::I, &a), to(T::F, &b)))
                }),
                2 => (inner.clone(), inner.clone()).prop_map(|(a, b)| (T::B, format!("({} && {})", a.1, b.1))),
                2 => (inner.clone(), inner.clone(), ty()).prop_map(|(a, b, t)| {
                    (t, format!("({} || {})", to(t, &a), to(t, &b)))
                }),
                1 => inner.clone().prop_map(|a| (T::B, format!("!({})", a.1))),
                1 => (inner.clone(), prop_oneof![3 => Just(T::I), 1 => Just(T::F)], raw)
                    .prop_map(|(a, t, raw)| (t, format!("-({})", if raw { a.1 } else { to(t, &a) }))),
                2 => (inner.clone(), inner.clone(), inner.clone(), ty()).prop_map(|(c, a, b, t)| {
                    (t, format!("({} ? {} : {})", c.1, to(t, &a), to(t, &b)))
                }),
                1 => (inner.clone(), inner, raw).prop_map(|(a, b, raw)| {
                    let (a, b) = if raw { (a.1, b.1) } else { (to(T::I, &a), to(T::I, &b)) };
                    (T::I, format!("round_div({a}, {b})"))
                }),
            ]
        })
    }

    fn int() -> impl Strategy<Value = i64> {
        prop_oneof![
            4 => -3i64..=3,
            2 => -2_000_000i64..2_000_000,
            1 => Just(i64::MAX),
            1 => Just(i64::MIN),
            1 => Just(i64::MAX / 10_000),
            1 => Just(-1),
            1 => any::<i64>(),
        ]
    }

    fn measures() -> impl Strategy<Value = Measures> {
        (
            proptest::array::uniform14(int()),
            proptest::array::uniform2(any::<bool>()),
            proptest::sample::select(&["", "C16.9", "A", "B"][..]),
        )
            .prop_map(|(mut slots, bools, text)| {
                slots[Slot::HasConsumption as usize] = bools[0] as i64;
                slots[Slot::Poor as usize] = bools[1] as i64;
                Measures { slots, text: text.to_string() }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn compiled_evaluation_is_the_interpreters(
            e in expr(),
            ms in proptest::collection::vec(measures(), 12),
        ) {
            agree(&e.1, &ms)?;
        }
    }

    /// Most random expressions of the subset compile, and agree; the rest fail on
    /// every household or mix types in `||` or `? :`.
    #[test]
    fn most_random_expressions_compile() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let (mut compiled, mut total) = (0, 0);
        for _ in 0..500 {
            let e = expr().new_tree(&mut runner).unwrap().current();
            let ms: Vec<Measures> = (0..4).map(|_| measures().new_tree(&mut runner).unwrap().current()).collect();
            total += 1;
            if agree(&e.1, &ms).unwrap() {
                compiled += 1;
            } else {
                // Only operands of the wrong types (the `raw` ones) stay out.
                let why = Compiled::new(&parse(&e.1)).unwrap_err();
                assert!(why.contains("fails on every household") || why.contains("no one type"), "{}: {why}", e.1);
            }
        }
        assert!(compiled * 10 >= total * 8, "{compiled} of {total} compiled");
    }

    fn m(f: impl FnOnce(&mut Measures)) -> Measures {
        let mut m = Measures { slots: [0; SLOTS], text: String::new() };
        f(&mut m);
        m
    }

    #[test]
    fn failures_are_left_to_the_interpreter() {
        let big = m(|m| {
            m.slots[Slot::Oop as usize] = i64::MAX / 2;
            m.slots[Slot::Size as usize] = 0;
            m.slots[Slot::Income as usize] = i64::MIN;
        });
        for (source, fails) in [
            ("oop * 10000 > budget * factor", true),
            ("oop / size", true),
            ("oop % size", true),
            ("income / -1", true),
            ("income % -1", true),
            ("-income", true),
            ("round_div(oop, size)", true),
            ("false && oop + true > 0", false),
            ("true || oop / size > 0", false),
            ("1.0 / 0.0 > 0.0", false),
            ("0.0 / 0.0 > 0.0", true),
            ("0.0 / 0.0 == 0.0 / 0.0", false),
            ("poor || 1.5 % 1.0 > 0.0", true),
            ("poor || oop < 'A'", true),
            ("oop == 'A'", false),
            ("!poor && oop == 1 + true", true),
            ("poor && oop == 1 + true", false),
            ("poor == 0", false),
            ("size == 0.0", false),
            ("size < 0.5", false),
            ("poor || 1 + 1.0 > 0", true),
            ("oop ? 1 : 1 / size", false),
            ("size ? 1 : 1 / size", true),
            ("serious_diagnosis || 'none'", false),
            ("!serious_diagnosis", false),
        ] {
            let ast = parse(source);
            let compiled = Compiled::new(&ast).unwrap_or_else(|e| panic!("{source}: {e}"));
            let fast = compiled.eval(&big.env());
            let cel = interpret(&ast, &big);
            assert_eq!(cel.is_err(), fails, "{source}: {cel:?}");
            assert_eq!(fast.is_none(), fails, "{source}: {fast:?}");
            if let (Some(f), Ok(v)) = (fast, &cel) {
                assert!(same(f, v), "{source}: {f:?} {v:?}");
            }
        }
    }

    #[test]
    fn outside_the_subset_is_refused_with_a_reason() {
        for (source, why) in [
            ("size(serious_diagnosis) > 1", "`size`"),
            ("serious_diagnosis in ['A']", "`in`"),
            ("serious_diagnosis.startsWith('C')", "method"),
            ("oop > 5u", "unsigned"),
            ("serious_diagnosis + 'x' == 'Ax'", "joining strings"),
            ("poor ? oop : serious_diagnosis", "no one type"),
            ("oop || poor", "no one type"),
            ("[oop][0] > 1", "indexing"),
            ("{'a': oop}.a > 1", "field selection"),
            ("[1, 2].exists(x, x > oop)", "macro"),
            ("max(oop, 1) > 2", "`max`"),
            ("round_div(oop)", "`round_div`"),
            ("oop + true", "fails on every household"),
        ] {
            match Compiled::new(&parse(source)) {
                Ok(c) => panic!("{source} compiled: {c:?}"),
                Err(e) => assert!(e.contains(why), "{source}: {e}"),
            }
        }
    }
}
