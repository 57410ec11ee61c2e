from o365check.mail import TEST_SUBJECT, build_test_message


def test_payload_has_the_message_wrapper_and_one_object_per_recipient():
    payload = build_test_message("a@contoso.example", ["b@contoso.example", "c@contoso.example"])
    assert set(payload) == {"message", "saveToSentItems"}
    message = payload["message"]
    assert message["subject"] == TEST_SUBJECT
    assert [r["emailAddress"]["address"] for r in message["toRecipients"]] == ["b@contoso.example", "c@contoso.example"]
    assert message["body"]["contentType"] == "Text" and "a@contoso.example" in message["body"]["content"]


def test_payload_is_stable_so_recordings_replay():
    assert build_test_message("a@x.example", "b@x.example") == build_test_message("a@x.example", "b@x.example")
