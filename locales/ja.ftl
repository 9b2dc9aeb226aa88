# ページ、エラーページ、フォームのメッセージ、既定の通知(日本語)。
# en.ftl と同じメッセージと変数を持ちます。プレーンテキストのみです。

## バッジ

badge-awaiting = 回答待ち
badge-confirm = 確認してください
badge-sign-in-needed = サインインが必要です
badge-for-systems = システム用
badge-done = 完了
badge-already-answered = 回答済み
badge-expired = 期限切れ
badge-invalid-link = 無効なリンク
badge-busy = 混雑中
badge-not-sent = 送信されていません
badge-not-allowed = 許可されていません
badge-not-signed-in = サインインしていません

## 操作の前に

lead-open = このリクエストはまだ回答を待っています。内容を確認してから、ボタンを押してください。
lead-open-choices = このリクエストはまだ回答を待っています。内容を確認してから、選択するボタンを押してください。
lead-unknown = 内容を確認してから、ボタンを押してください。リクエストがすでに回答済みか終了している場合は、次のページでお知らせし、何も変更されません。
lead-unknown-choices = 内容を確認してから、選択するボタンを押してください。リクエストがすでに回答済みか終了している場合は、次のページでお知らせし、何も変更されません。

## 確認ページ

page-confirm-title = 確認：{ $action }
page-button-heartbeat = ハートビートを送信
page-button-confirm = 確認：{ $action }
page-field-action = アクション
page-field-expires = リンクの有効期限
page-signed-in-as = { $who } としてサインインしています
page-comment = コメント
page-comment-optional = コメント（任意）
page-comment-limit = （{ $max } 文字まで）

## 確認と選択のページ

page-review-title = 確認して決定
page-review-named-approvers = 一部の選択肢は、指定された承認者のみが選べます。
page-sign-in-to-continue = サインインして続行
page-choice-sign-in-first = 指定された承認者のみが選べます。先にサインインしてください。
page-refusal-not-an-approver = { $who } は承認者に含まれていません。
page-refusal-requester = { $who } はこの決定を依頼した本人のため、別の人が決定する必要があります。
page-refusal-someone = サインイン中のユーザー

## サインインページ

page-sign-in-lead = このリクエストは指定された承認者向けです。サインインして、どのアカウントでサインインしているかを確認してから、承認してください。
page-sign-in-lead-open = このリクエストは指定された承認者向けです。サインインして、どのアカウントでサインインしているかを確認してから、承認してください。このリクエストはまだ回答を待っています。

## ブラウザーで開かれた POST アクションのリンク

page-systems-title = このリンクはシステム用です
page-systems-lead = アクション { $action } には、この URL に JSON 本文の POST を送るプログラムが応答します。ブラウザーで開いても何も起こりません。

## 回答の後

page-accepted-title = 回答を受け付けました
page-accepted-lead = あなたの回答 { $response } を記録しました。このページは閉じてかまいません。
page-your-comment = あなたのコメント：
page-transaction = トランザクション { $id }
page-support = サポート用：アクション { $action }（{ $type }）
page-support-transaction = サポート用：アクション { $action }（{ $type }）、トランザクション { $id }
page-requested-by = 依頼者：{ $who }

## エラーページ

error-already-answered-title = このリクエストはすでに回答済みです
error-already-answered-advice = すでに誰かが回答したか、タスクが終了したかタイムアウトしました。何も変更されていません。
error-expired-title = このリンクは有効期限が切れています
error-expired-advice = 送信者に新しいリンクを依頼してください。何も変更されていません。
error-expired-when = 有効期限は { $when } でした。
error-invalid-link-title = このリンクは無効です
error-invalid-link-advice = 途中で切れたか、変更された可能性があります。元のメッセージを開き、リンク全体を使用してください。何も変更されていません。
error-busy-title = しばらくしてからもう一度お試しください
error-busy-advice = サービスが現在 AWS に接続できませんでした。リンクは引き続き有効です。前のページに戻って、もう一度ボタンを押してください。
error-slack-busy-advice = Slack から押した人を確認できなかったため、何も送信されていません。しばらくしてからもう一度ボタンを押してください。
error-provider-busy-advice = サインインサービスに接続できなかったため、何も送信されていません。リンクは引き続き有効です。しばらくしてからもう一度開いてください。
error-too-many-title = リクエストが多すぎます
error-too-many-advice = このブラウザーから短時間に多くのリクエストがありました。何も変更されていません。1 分待ってから、もう一度リンクを開いてください。
error-bad-comment-title = コメントを確認してください
error-bad-comment-advice = 前のページに戻り、コメントを修正してもう一度送信してください。何も変更されていません。
error-bad-form-title = フォームを確認してください
error-not-an-approver-title = このリクエストには回答できません
error-not-an-approver-advice = このリンクは指定された承認者向けで、サインイン中のユーザーは回答できません。何も変更されていません。
error-sign-in-required-title = 先にサインインしてください
error-sign-in-required-advice = このリンクは指定された承認者向けです。もう一度開いてサインインしてください。何も変更されていません。
error-sign-in-failed-title = サインインが完了しませんでした
error-sign-in-failed-advice = 何も変更されていません。やり直すには、元のメッセージのリンクをもう一度開いてください。
error-rejected-title = 回答は受け付けられませんでした
error-rejected-advice = 何も変更されていません。
error-sign-out = サインアウトして別のアカウントを使う
error-details = サポート用：{ $message }（{ $code }、{ $status }）

## フォーム

form-optional = （任意）
form-correct-fields = 回答は送信されていません。下の印の付いた項目を修正してから、もう一度ボタンを押してください。
form-fields-to-change = 修正が必要な項目が { $count } 件あります。
form-yes = はい
form-no = いいえ
form-choose = 選択してください…
form-required = この項目は必須です。
form-sent-twice = この項目が複数回送信されました。
form-whole-number = 整数を入力してください。
form-number = 数値を入力してください。
form-min-length = { $min } 文字以上で入力してください。
form-max-length = { $max } 文字以内で入力してください。
form-pattern = 想定された形式ではありません。
form-choice = 選択肢のいずれかを選んでください。
form-email = メールアドレスを入力してください。
form-date = 日付を入力してください（YYYY-MM-DD）。
form-date-time = 時差を含む日時を入力してください。
form-uri = 絶対アドレスを入力してください（https://...）。
form-minimum = { $min } 以上にしてください。
form-maximum = { $max } 以下にしてください。
form-multiple-of = { $step } の倍数にしてください。
form-boolean = true または false を指定してください。
form-text = テキストを入力してください。
form-unfit = フォームに合いません（{ $keyword }）。
form-unknown-field = 「{ $name }」はこのフォームの項目ではありません。
form-values-unfit = 値がフォームに合いません（{ $keyword }）。
form-not-an-object = フォームの値は JSON オブジェクトである必要があります。
form-not-taken = このアクションにはフォームがありません。

## 既定の通知

notify-subject = ご判断をお願いします
notify-waiting = ワークフローがあなたの判断を待っています。
notify-review = 確認して決定
notify-expires = これらのリンクは { $expiration } に無効になります。

## Slack

slack-decided = { $who } が { $action } を選択しました · { $when }
slack-modal-title = 回答
slack-modal-send = 送信
slack-modal-cancel = キャンセル
slack-unconfirmed = ワークフローが時間内に回答を確認しなかったため、記録されたかどうかは不明です。もう一度ボタンを押して確認してください。回答が二重に記録されることはありません。
slack-not-a-link = このボタンには、このサービスが開けるリンクが含まれていません。何も変更されていません。
slack-heartbeat-sent = ハートビートを送信しました。タスクがまだ処理中であることがワークフローに伝わりました。何も決定されていません。
