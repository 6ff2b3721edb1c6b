//! Calls into real child interpreters: every interpreter on the machine.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::collections::BTreeMap;

use context_util::{Recorder, builtins, core_line, start, within};
use interpreters::interpreters;
use pyfleet::{Broker, CallError, OutputStream, Value};

#[tokio::test]
async fn hello_reports_each_interpreter_as_it_is() {
    let broker = Broker::new();
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        let facts = ctx.facts();
        assert_eq!(facts.pid, ctx.pid(), "{}", python.display());
        assert_eq!(facts.protocol, 1);
        let is_pypy = python.to_string_lossy().contains("pypy");
        assert_eq!(
            facts.implementation,
            if is_pypy { "pypy" } else { "cpython" }
        );
        let version = format!(
            "{}.{}.{}",
            facts.version.0, facts.version.1, facts.version.2
        );
        if let Some(pyenv_version) = python.to_string_lossy().split("/versions/").nth(1) {
            assert!(
                pyenv_version.starts_with(&version),
                "{} reported {version}",
                python.display()
            );
        }
        assert!(!facts.path.is_empty());
        assert!(facts.flags.contains_key("optimize"), "{:?}", facts.flags);
        assert!(!facts.encodings.filesystem.is_empty());
        let pid: u32 = within("os.getpid", ctx.call("os", "getpid", (), ()))
            .await
            .unwrap();
        assert_eq!(pid, ctx.pid());
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn values_cross_both_ways_on_every_interpreter() {
    let broker = Broker::new();
    let samples = vec![
        Value::None,
        Value::Bool(true),
        Value::Int(-7),
        Value::Int(i64::MAX),
        Value::from(-(1i128 << 100)),
        Value::Float(2.5),
        Value::Str("h\u{e9}llo \u{1f40d}".into()),
        Value::Bytes(vec![0, 1, 255].into()),
        Value::Tuple(vec![Value::Int(1), Value::Str("two".into())]),
        Value::List(vec![Value::List(vec![]), Value::Dict(vec![])]),
        Value::Dict(vec![(
            Value::Str("k".into()),
            Value::List(vec![Value::Int(1)]),
        )]),
        Value::FrozenSet(vec![Value::Int(3)]),
    ];
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        for sample in &samples {
            let back: Value = within("copy.copy", ctx.call("copy", "copy", (sample.clone(),), ()))
                .await
                .unwrap();
            assert_eq!(&back, sample, "{}", python.display());
        }
        let joined: String = ctx.call("os.path", "join", ("a", "b"), ()).await.unwrap();
        assert_eq!(joined, "a/b");
        let mut kwargs = BTreeMap::new();
        kwargs.insert("separators", (",", ":"));
        let dumped: String = ctx
            .call("json", "dumps", (vec![1, 2],), kwargs)
            .await
            .unwrap();
        assert_eq!(dumped, "[1,2]", "{}", python.display());
        let hex: i64 = ctx
            .call(
                builtins(&ctx),
                "int",
                ("ff",),
                [("base", 16)].into_iter().collect::<BTreeMap<_, _>>(),
            )
            .await
            .unwrap();
        assert_eq!(hex, 255);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn exceptions_carry_type_message_and_traceback() {
    let broker = Broker::new();
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        let py2 = ctx.facts().version.0 == 2;

        let error = ctx
            .call::<Value>("json", "loads", ("{bad",), ())
            .await
            .unwrap_err();
        let remote = error.remote().unwrap_or_else(|| panic!("{error}"));
        assert_eq!(
            remote.type_name,
            if py2 {
                "ValueError"
            } else {
                "json.decoder.JSONDecodeError"
            }
        );
        assert!(
            remote.message.contains("line 1 column 2"),
            "{}",
            remote.message
        );
        assert!(
            remote
                .traceback
                .starts_with("Traceback (most recent call last):\n"),
            "{}",
            remote.traceback
        );
        assert!(remote.traceback.contains("/json/"), "{}", remote.traceback);
        assert!(
            !remote.traceback.contains("pyfleet_core/calls.py"),
            "dispatcher frames are trimmed:\n{}",
            remote.traceback
        );
        assert_eq!(remote.context, ctx.name());

        let missing = ctx
            .call::<Value>("no_such_module_xyz", "f", (), ())
            .await
            .unwrap_err();
        let remote = missing.remote().unwrap();
        assert!(
            remote.type_name == "ModuleNotFoundError" || remote.type_name == "ImportError",
            "{remote:?}"
        );
        assert!(
            remote.message.contains("no_such_module_xyz"),
            "{}",
            remote.message
        );

        let no_function = ctx
            .call::<Value>("os", "no_such_function", (), ())
            .await
            .unwrap_err();
        assert_eq!(no_function.remote().unwrap().type_name, "AttributeError");

        let chained = ctx
            .exec("try:\n    {}['k']\nexcept KeyError:\n    raise ValueError('while handling')\n")
            .await
            .unwrap_err();
        let remote = chained.remote().unwrap();
        assert_eq!(remote.type_name, "ValueError");
        if !py2 {
            assert!(
                remote.traceback.contains("KeyError"),
                "{}",
                remote.traceback
            );
            assert!(
                remote
                    .traceback
                    .contains("During handling of the above exception"),
                "{}",
                remote.traceback
            );
        }
        // The context survives every one of these.
        let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn tracebacks_through_the_core_name_its_real_source_lines() {
    let broker = Broker::new();
    let line = core_line("wire.py", "return marshal.loads(body)");
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        let error = ctx
            .call::<Value>(
                "pyfleet_core.wire",
                "loads",
                (Value::Bytes(vec![0xff].into()),),
                (),
            )
            .await
            .unwrap_err();
        let traceback = &error.remote().unwrap().traceback;
        let expected = format!("File \"pyfleet_core/wire.py\", line {line}, in loads");
        assert!(
            traceback.contains(&expected),
            "{}: expected {expected} in\n{traceback}",
            python.display()
        );
        assert!(
            traceback.contains("return marshal.loads(body)"),
            "{traceback}"
        );
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn exceptions_that_resist_encoding_still_arrive() {
    let broker = Broker::new();
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        let source = "class Stubborn(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n    def __repr__(self):\n        raise RuntimeError('no')\nraise Stubborn()\n";
        let error = ctx.exec(source).await.unwrap_err();
        let remote = error
            .remote()
            .unwrap_or_else(|| panic!("{}: {error}", python.display()));
        assert!(remote.type_name.ends_with("Stubborn"), "{remote:?}");
        assert!(
            remote.message.contains("unprintable Stubborn"),
            "{remote:?}"
        );
        let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn output_arrives_in_order_before_the_result() {
    for python in interpreters() {
        let recorder = Recorder::default();
        let broker = Broker::builder().on_output(recorder.handler()).build();
        let ctx = start(&broker, &python).await;
        let outcome = ctx
            .exec("import sys\nprint('one')\nsys.stderr.write('two\\n')\nprint('three')\n40 + 2")
            .await
            .unwrap();
        assert_eq!(outcome.repr.as_deref(), Some("42"));
        assert_eq!(outcome.value, Some(Value::Int(42)));
        let events = recorder.events();
        assert_eq!(
            events,
            vec![
                (OutputStream::Stdout, "one\n".to_string()),
                (OutputStream::Stderr, "two\n".to_string()),
                (OutputStream::Stdout, "three\n".to_string()),
            ],
            "{}",
            python.display()
        );
        broker.shutdown().await;
    }
}

#[tokio::test]
async fn writes_to_fd_1_never_corrupt_the_protocol() {
    for python in interpreters() {
        let recorder = Recorder::default();
        let broker = Broker::builder().on_output(recorder.handler()).build();
        let ctx = start(&broker, &python).await;
        let garbage = "import os\nos.write(1, b'PF\\x01\\x00 not a frame\\n')\nos.system('echo from a subprocess')\n";
        ctx.exec(garbage).await.unwrap();
        for _ in 0..3 {
            let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
        }
        let stderr = within("stderr to be forwarded", async {
            loop {
                let text = recorder.text(OutputStream::Stderr);
                if text.contains("from a subprocess") {
                    return text;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(stderr.contains("not a frame"), "{stderr}");
        assert!(ctx.is_alive());
        broker.shutdown().await;
    }
}

#[tokio::test]
async fn call_no_reply_runs_without_an_answer() {
    let broker = Broker::new();
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        ctx.call_no_reply("pyfleet_core.execution", "run", ("marker = 5",), ())
            .await
            .unwrap();
        let outcome = ctx.exec("marker * 2").await.unwrap();
        assert_eq!(outcome.value, Some(Value::Int(10)), "{}", python.display());
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_in_flight_from_many_tasks() {
    let broker = Broker::new();
    let ctx = start(&broker, std::path::Path::new(interpreters::SYSTEM_PYTHON)).await;
    let mut tasks = tokio::task::JoinSet::new();
    // 400 tasks, one call each, all in flight together; and 8 tasks whose calls
    // must come back in order with their own values.
    for i in 0..400i64 {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let back: (i64, String) = ctx
                .call("copy", "copy", ((i, i.to_string()),), ())
                .await
                .unwrap();
            assert_eq!(back, (i, i.to_string()));
        });
    }
    for task in 0..8i64 {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            for i in 0..50i64 {
                let back: (i64, i64) = ctx.call("copy", "copy", ((task, i),), ()).await.unwrap();
                assert_eq!(back, (task, i));
            }
        });
    }
    within("concurrent calls", async {
        while let Some(joined) = tasks.join_next().await {
            joined.unwrap();
        }
    })
    .await;
    assert_eq!(ctx.dropped_frames(), (0, 0));
    broker.shutdown().await;
}

#[tokio::test]
async fn results_that_cannot_cross_fail_only_their_call() {
    let broker = Broker::new();
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        let b = builtins(&ctx);

        let error = ctx.call::<Value>(b, "object", (), ()).await.unwrap_err();
        let remote = error.remote().unwrap_or_else(|| panic!("{error}"));
        assert_eq!(remote.type_name, "pyfleet.UnencodableResult");
        assert!(remote.message.contains("'object'"), "{}", remote.message);

        // marshal can encode these, but they are outside the value subset Rust accepts.
        let error = ctx
            .call::<Value>(b, "complex", (1, 2), ())
            .await
            .unwrap_err();
        assert!(matches!(error, CallError::Decode { .. }), "{error}");
        assert!(error.to_string().contains("complex"), "{error}");
        let error = ctx
            .call::<Value>(b, "compile", ("1", "f", "eval"), ())
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("code objects are never accepted"),
            "{error}"
        );

        // A well-formed value of the wrong type for the requested Rust type.
        let error = ctx.call::<u32>("os", "getcwd", (), ()).await.unwrap_err();
        assert!(matches!(error, CallError::Decode { .. }), "{error}");

        let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
        assert!(ctx.is_alive());
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn oversized_messages_fail_clearly_both_ways() {
    let max = 1 << 20;
    let broker = Broker::builder().max_message_size(max).build();
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        let big = Value::Bytes(vec![7u8; max + 1].into());
        let error = ctx
            .call::<Value>("copy", "copy", (big,), ())
            .await
            .unwrap_err();
        assert!(
            matches!(error, CallError::TooLarge { max: m, .. } if m == max),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains(pyfleet::messages::MESSAGE_TOO_LARGE),
            "{error}"
        );

        let error = ctx
            .call::<Value>("os", "urandom", (max + 1,), ())
            .await
            .unwrap_err();
        let remote = error
            .remote()
            .unwrap_or_else(|| panic!("{}: {error}", python.display()));
        assert_eq!(remote.type_name, "pyfleet.MessageTooLarge");
        assert!(
            remote.message.contains("max_message_size"),
            "{}",
            remote.message
        );

        let fits: Vec<u8> = ctx.call("os", "urandom", (max - 64,), ()).await.unwrap();
        assert_eq!(fits.len(), max - 64);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn large_bytes_cross_intact() {
    let broker = Broker::new();
    let ctx = start(&broker, std::path::Path::new(interpreters::SYSTEM_PYTHON)).await;
    let payload: Vec<u8> = (0..64u32 << 20).map(|i| (i % 251) as u8).collect();
    let back: Value = within(
        "64 MiB round trip",
        ctx.call("copy", "copy", (Value::Bytes(payload.clone().into()),), ()),
    )
    .await
    .unwrap();
    assert_eq!(back.as_bytes().map(<[u8]>::len), Some(payload.len()));
    assert!(back.as_bytes() == Some(&payload[..]));
    broker.shutdown().await;
}

#[tokio::test]
async fn subclasses_of_supported_types_cross_as_their_base_type() {
    let broker = Broker::new();
    for python in interpreters() {
        let ctx = start(&broker, &python).await;
        let stat: Value = ctx.call("os", "stat", ("/",), ()).await.unwrap();
        let Value::Tuple(fields) = &stat else {
            panic!("{}: {stat:?}", python.display())
        };
        assert!(fields.len() >= 10);
        let outcome = ctx
            .exec("import collections\nPoint = collections.namedtuple('Point', 'x y')\ncollections.OrderedDict([('b', Point(1, 2)), ('a', [True])])")
            .await
            .unwrap();
        let expected = Value::Dict(vec![
            (
                Value::Str("b".into()),
                Value::Tuple(vec![Value::Int(1), Value::Int(2)]),
            ),
            (Value::Str("a".into()), Value::List(vec![Value::Bool(true)])),
        ]);
        // Python 2 returns the keys as bytes; compare through the typed view.
        let value = outcome.value.unwrap();
        let as_map: BTreeMap<String, Value> = pyfleet::wire::from_value(value.clone()).unwrap();
        let expected_map: BTreeMap<String, Value> = pyfleet::wire::from_value(expected).unwrap();
        assert_eq!(as_map, expected_map, "{}: {value:?}", python.display());
        let error = ctx.exec("{'k': [1, object()]}").await.unwrap();
        assert_eq!(error.unencodable.as_deref(), Some("dict"));
    }
    broker.shutdown().await;
}
