//! The `#[asyncio::main]` and `#[asyncio::test]` attributes of the [asyncio] crate.
//!
//! Use them through `asyncio` (its `macros` feature, on by default), not from this crate.
//!
//! Both turn an `async fn` into a plain `fn` that runs the original body on a new event loop,
//! the way a Python program ends with `asyncio.run(main())`:
//!
//! ```
//! #[asyncio::main]
//! async fn main() {
//!     let task = asyncio::create_task(async { 6 * 7 });
//!     assert_eq!(task.await.unwrap(), 42);
//! }
//! ```
//!
//! # How the expansion works
//!
//! The function is emitted twice: once as it was written (an `async fn` of the same name,
//! nested inside), once as the plain `fn` around it that hands the nested one to
//! `asyncio::run`. Nesting the user's own `async fn`, rather than pasting its body into an
//! `async` block, keeps every rule of an `async fn` as the user knows it: the return type is
//! declared, so `?` and `return` need no annotations and a wrong return type is reported
//! against the signature.
//!
//! There is no parser crate: the macros read the function's tokens with `proc_macro` alone
//! (attributes, visibility, qualifiers, `fn`, name, generics, parameters, return type, body),
//! which is all they need to check and to rewrite, and they add nothing else to a build.
//!
//! [asyncio]: https://docs.rs/asyncio

#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

use proc_macro::{Delimiter, Group, Ident, Literal, Spacing, Span, TokenStream, TokenTree};

/// Runs an `async fn main` on a new event loop: Python's `asyncio.run(main())`, as an
/// attribute.
///
/// The loop is made, the body runs to completion with every task it creates, leftover tasks
/// are cancelled and the loop is closed (see `asyncio::run`). The function may return
/// anything, a `Result` included, so `?` works in its body:
///
/// ```
/// #[asyncio::main]
/// async fn main() -> Result<(), asyncio::TaskError> {
///     let task = asyncio::create_task(async { "hello from a task" });
///     println!("{}", task.await?);
///     Ok(())
/// }
/// ```
///
/// That program is the following one, written out (the expansion keeps the attributes and
/// the visibility of the function):
///
/// ```
/// fn main() -> Result<(), asyncio::TaskError> {
///     async fn main() -> Result<(), asyncio::TaskError> {
///         let task = asyncio::create_task(async { "hello from a task" });
///         println!("{}", task.await?);
///         Ok(())
///     }
///     asyncio::run(main())
/// }
/// ```
///
/// The attribute works on any function name (`#[asyncio::main] async fn serve()` gives a
/// blocking `fn serve()`), and it takes no options; for a program on a virtual clock, call
/// `asyncio::Runner::virtual_time().run(...)` yourself.
///
/// # Compile errors
///
/// The attribute refuses, with an error on the tokens at fault, a function that is not
/// `async`, one with parameters, a generic one, a `const`, `unsafe` or `extern` one, and any
/// option in the attribute:
///
/// ```compile_fail
/// #[asyncio::main]
/// fn main() {} // error: `#[asyncio::main]` needs an async function: write `async fn main`
/// ```
///
/// The path `::asyncio` in the expansion names the asyncio crate: a crate that renames the
/// dependency in its Cargo.toml cannot use the attribute.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args, item)
}

/// Makes an `async fn` a `#[test]` that runs on a fresh event loop.
///
/// Each test gets its own loop, closed when the test returns. Other attributes stay on the
/// test (`#[should_panic]`, `#[ignore]`, doc comments), and the test may return a `Result`:
///
/// ```
/// # fn main() {}
/// #[asyncio::test]
/// async fn a_task_returns_its_value() {
///     let task = asyncio::create_task(async { 42 });
///     assert_eq!(task.await.unwrap(), 42);
/// }
///
/// #[asyncio::test]
/// #[should_panic(expected = "boom")]
/// async fn a_panic_in_the_body_fails_the_test() {
///     asyncio::sleep(0).await;
///     panic!("boom");
/// }
/// ```
///
/// # Virtual time
///
/// `#[asyncio::test(virtual_time)]` runs the test on a loop with a virtual clock
/// (`asyncio::Runner::virtual_time()`, like tokio's `start_paused`): whenever nothing is
/// ready, the clock jumps to the next timer, so sleeps take no real time and the times the
/// loop reports are exact.
///
/// ```
/// # fn main() {}
/// #[asyncio::test(virtual_time)]
/// async fn an_hour_passes_in_no_time() {
///     let lp = asyncio::get_running_loop().unwrap();
///     let start = lp.time();
///     asyncio::sleep(3600).await;
///     assert_eq!(lp.time() - start, 3600.0);
/// }
/// ```
///
/// # Compile errors
///
/// As for `#[asyncio::main]`: the function must be `async`, without parameters or generics;
/// the only option is `virtual_time`; and a `#[test]` beside the attribute is refused, since
/// the attribute already adds it.
///
/// ```compile_fail
/// # fn main() {}
/// #[asyncio::test]
/// async fn needs_no_arguments(n: u32) {} // error: `#[asyncio::test]` functions take no arguments
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args, item)
}

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as users write it, for error messages.
    fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[asyncio::main]",
            Kind::Test => "#[asyncio::test]",
        }
    }
}

/// The clock of the loop that runs the body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clock {
    Real,
    Virtual,
}

/// A compile error covering the tokens from `start` to `end`.
struct Error {
    start: Span,
    end: Span,
    message: String,
}

impl Error {
    fn new(span: Span, message: String) -> Error {
        Error::spanning(span, span, message)
    }

    fn spanning(start: Span, end: Span, message: String) -> Error {
        Error {
            start,
            end,
            message,
        }
    }

    /// `::core::compile_error! { "message" }`, with the path on `start` and the braces on
    /// `end`: rustc reports an invocation from its first token to its last, so the error
    /// underlines the whole range (stable Rust has no `Span::join`).
    fn into_tokens(self) -> TokenStream {
        let mut out = TokenStream::new();
        for mut token in code("::core::compile_error!") {
            token.set_span(self.start);
            out.extend([token]);
        }
        let mut message = Literal::string(&self.message);
        message.set_span(self.end);
        let mut braces = Group::new(Delimiter::Brace, TokenTree::Literal(message).into());
        braces.set_span(self.end);
        out.extend([TokenTree::Group(braces)]);
        out
    }
}

/// The parts of `#[attrs] vis async fn name() -> Output where .. { body }` that the
/// expansion reuses, as written.
struct Function {
    /// Outer attributes, doc comments included: `#` and its `[...]`, in order.
    attributes: Vec<TokenTree>,
    visibility: Vec<TokenTree>,
    name: Ident,
    /// Everything between the parameters and the body: `-> Output` and a `where` clause.
    signature_tail: Vec<TokenTree>,
    body: Group,
}

fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let clock = parse_options(kind, args, &mut errors);
    let function = parse_function(kind, item.clone(), &mut errors);
    let mut out: TokenStream = errors.into_iter().map(Error::into_tokens).collect();
    match function {
        Some(function) if out.is_empty() => generate(kind, clock, function),
        // Beside the errors, a plain `fn` of the same name, so that nothing else fails for
        // want of it (a missing `main`, say) and only the errors above are reported.
        Some(function) => {
            out.extend(code("#[allow(dead_code)]"));
            out.extend(function.visibility);
            out.extend(code("fn"));
            out.extend([TokenTree::Ident(function.name)]);
            out.extend(code("() {}"));
            out
        }
        // Not a function at all: leave the item as it was.
        None => {
            out.extend(item);
            out
        }
    }
}

/// Reads the attribute's options: none for `main`; `virtual_time` for `test`.
fn parse_options(kind: Kind, args: TokenStream, errors: &mut Vec<Error>) -> Clock {
    let mut clock = Clock::Real;
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    if kind == Kind::Main {
        if let (Some(first), Some(last)) = (tokens.first(), tokens.last()) {
            let hint = if is_ident(first, "virtual_time") {
                "; for a program on a virtual clock, call \
                 `asyncio::Runner::virtual_time().run(...)` in a plain `fn main`"
            } else {
                ""
            };
            errors.push(Error::spanning(
                first.span(),
                last.span(),
                format!("`#[asyncio::main]` takes no options{hint}"),
            ));
        }
        return clock;
    }
    for option in tokens.split(|token| is_punct(token, ',')) {
        match option {
            [] => {}
            [TokenTree::Ident(word)] if word.to_string() == "virtual_time" => {
                if clock == Clock::Virtual {
                    errors.push(Error::new(
                        word.span(),
                        "`virtual_time` is given twice".to_owned(),
                    ));
                }
                clock = Clock::Virtual;
            }
            [TokenTree::Ident(word)] => errors.push(Error::new(
                word.span(),
                format!(
                    "unknown option `{word}` of `#[asyncio::test]`: the only option is \
                     `virtual_time`"
                ),
            )),
            [first, ..] => errors.push(Error::spanning(
                first.span(),
                option[option.len() - 1].span(),
                "the options of `#[asyncio::test]` are bare words: \
                 write `#[asyncio::test(virtual_time)]`"
                    .to_owned(),
            )),
        }
    }
    clock
}

/// Splits the item into the parts [`generate`] needs, recording an error for each thing the
/// attribute cannot run. Returns `None` when the item is not a function at all.
fn parse_function(kind: Kind, item: TokenStream, errors: &mut Vec<Error>) -> Option<Function> {
    let attribute = kind.attribute();
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut i = 0;

    let mut attributes = Vec::new();
    while let (Some(hash), Some(TokenTree::Group(brackets))) = (tokens.get(i), tokens.get(i + 1)) {
        if !is_punct(hash, '#') || brackets.delimiter() != Delimiter::Bracket {
            break;
        }
        let inside: Vec<TokenTree> = brackets.stream().into_iter().collect();
        if kind == Kind::Test && matches!(inside.as_slice(), [word] if is_ident(word, "test")) {
            errors.push(Error::spanning(
                hash.span(),
                brackets.span(),
                "remove this `#[test]`: `#[asyncio::test]` already makes the function a test"
                    .to_owned(),
            ));
        } else {
            attributes.extend([hash.clone(), TokenTree::Group(brackets.clone())]);
        }
        i += 2;
    }

    let mut visibility = Vec::new();
    if tokens.get(i).is_some_and(|token| is_ident(token, "pub")) {
        visibility.push(tokens[i].clone());
        i += 1;
        if let Some(TokenTree::Group(scope)) = tokens.get(i) {
            if scope.delimiter() == Delimiter::Parenthesis {
                visibility.push(tokens[i].clone());
                i += 1;
            }
        }
    }

    let mut is_async = false;
    while let Some(TokenTree::Ident(word)) = tokens.get(i) {
        let word_text = word.to_string();
        match word_text.as_str() {
            "async" => is_async = true,
            "const" | "unsafe" | "extern" | "safe" | "default" => {
                let article = if word_text.starts_with(['u', 'e']) {
                    "an"
                } else {
                    "a"
                };
                errors.push(Error::new(
                    word.span(),
                    format!("`{attribute}` cannot be used on {article} `{word_text}` function"),
                ));
                if word_text == "extern" {
                    if let Some(TokenTree::Literal(_abi)) = tokens.get(i + 1) {
                        i += 1;
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }

    let fn_keyword = match tokens.get(i) {
        Some(token) if is_ident(token, "fn") => token.span(),
        other => {
            let span = other.map_or_else(Span::call_site, TokenTree::span);
            errors.push(Error::new(
                span,
                format!("`{attribute}` goes on an `async fn`"),
            ));
            return None;
        }
    };
    i += 1;
    let Some(TokenTree::Ident(name)) = tokens.get(i) else {
        errors.push(Error::new(
            fn_keyword,
            "expected the function's name after `fn`".to_owned(),
        ));
        return None;
    };
    let name = name.clone();
    i += 1;
    if !is_async {
        errors.push(Error::new(
            fn_keyword,
            format!("`{attribute}` needs an async function: write `async fn {name}`"),
        ));
    }

    if tokens.get(i).is_some_and(|token| is_punct(token, '<')) {
        let start = tokens[i].span();
        let mut end = start;
        let mut depth = 0usize;
        let mut after_dash = false; // a `>` right after `-` is an arrow, not a bracket
        for token in &tokens[i..] {
            i += 1;
            if let TokenTree::Punct(punct) = token {
                match punct.as_char() {
                    '<' => depth += 1,
                    '>' if !after_dash => depth = depth.saturating_sub(1),
                    _ => {}
                }
                after_dash = punct.as_char() == '-' && punct.spacing() == Spacing::Joint;
                if depth == 0 {
                    end = punct.span();
                    break;
                }
            } else {
                after_dash = false;
            }
        }
        let what = match kind {
            Kind::Main => "`#[asyncio::main]` functions cannot be generic",
            Kind::Test => "`#[asyncio::test]` functions cannot be generic",
        };
        errors.push(Error::spanning(
            start,
            end,
            format!("{what}: nothing would choose the generic parameters"),
        ));
    }

    let Some(TokenTree::Group(parameters)) = tokens.get(i) else {
        errors.push(Error::new(
            name.span(),
            format!("expected the parameters of `{name}`"),
        ));
        return None;
    };
    if !parameters.stream().is_empty() {
        let message = match kind {
            Kind::Main => {
                "`#[asyncio::main]` functions take no arguments \
                           (a program reads its command line with `std::env::args()`)"
            }
            Kind::Test => "`#[asyncio::test]` functions take no arguments",
        };
        errors.push(Error::new(parameters.span(), message.to_owned()));
    }
    i += 1;

    let (body, signature_tail) = match tokens[i..].split_last() {
        Some((TokenTree::Group(body), tail)) if body.delimiter() == Delimiter::Brace => {
            (body.clone(), tail.to_vec())
        }
        last => {
            let span = last.map_or(parameters.span(), |(token, _)| token.span());
            errors.push(Error::new(
                span,
                format!("`{attribute}` needs a function with a body"),
            ));
            return None;
        }
    };

    Some(Function {
        attributes,
        visibility,
        name,
        signature_tail,
        body,
    })
}

/// ```text
/// [#[::core::prelude::v1::test]]   (for #[asyncio::test])
/// #[attrs] vis fn name() -> Output {
///     async fn name() -> Output { body }
///     ::asyncio::run(name())        (or ::asyncio::Runner::virtual_time().run(name()))
/// }
/// ```
fn generate(kind: Kind, clock: Clock, function: Function) -> TokenStream {
    let Function {
        attributes,
        visibility,
        name,
        signature_tail,
        body,
    } = function;

    let mut inner = code("async fn");
    inner.extend([TokenTree::Ident(name.clone())]);
    inner.extend(code("()"));
    inner.extend(signature_tail.iter().cloned());
    inner.extend([TokenTree::Group(body)]);
    inner.extend(match clock {
        Clock::Real => code("::asyncio::run"),
        Clock::Virtual => code("::asyncio::Runner::virtual_time().run"),
    });
    let call = TokenStream::from_iter(
        [TokenTree::Ident(name.clone())]
            .into_iter()
            .chain(code("()")),
    );
    inner.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, call))]);

    let mut out = TokenStream::new();
    if kind == Kind::Test {
        // The full path: a `use asyncio::test` in the user's module must not capture it.
        out.extend(code("#[::core::prelude::v1::test]"));
    }
    out.extend(attributes);
    out.extend(visibility);
    out.extend(code("fn"));
    out.extend([TokenTree::Ident(name)]);
    out.extend(code("()"));
    out.extend(signature_tail);
    out.extend([TokenTree::Group(Group::new(Delimiter::Brace, inner))]);
    out
}

/// Tokens of fixed Rust code, spanned at the attribute.
fn code(text: &str) -> TokenStream {
    text.parse()
        .expect("the macros' own code fragments are valid tokens")
}

fn is_ident(token: &TokenTree, word: &str) -> bool {
    matches!(token, TokenTree::Ident(ident) if ident.to_string() == word)
}

fn is_punct(token: &TokenTree, c: char) -> bool {
    matches!(token, TokenTree::Punct(punct) if punct.as_char() == c)
}
