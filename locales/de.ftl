# Die Seiten, Fehlerseiten, Formularmeldungen und Standardbenachrichtigungen
# auf Deutsch. Dieselben Meldungen und Variablen wie en.ftl; nur Klartext.

## Abzeichen

badge-awaiting = Antwort ausstehend
badge-confirm = Bitte bestätigen
badge-sign-in-needed = Anmeldung erforderlich
badge-for-systems = Für Systeme
badge-done = Erledigt
badge-already-answered = Bereits beantwortet
badge-expired = Abgelaufen
badge-invalid-link = Ungültiger Link
badge-busy = Ausgelastet
badge-not-sent = Nicht gesendet
badge-not-allowed = Nicht erlaubt
badge-not-signed-in = Nicht angemeldet

## Vor der Entscheidung

lead-open = Diese Anfrage wartet noch auf eine Antwort. Prüfen Sie die Angaben und drücken Sie dann die Schaltfläche.
lead-open-choices = Diese Anfrage wartet noch auf eine Antwort. Prüfen Sie die Angaben und drücken Sie dann die Schaltfläche Ihrer Wahl.
lead-unknown = Prüfen Sie die Angaben und drücken Sie dann die Schaltfläche. Wurde die Anfrage bereits beantwortet oder ist sie geschlossen, sagt Ihnen das die nächste Seite, und es ändert sich nichts.
lead-unknown-choices = Prüfen Sie die Angaben und drücken Sie dann die Schaltfläche Ihrer Wahl. Wurde die Anfrage bereits beantwortet oder ist sie geschlossen, sagt Ihnen das die nächste Seite, und es ändert sich nichts.

## Bestätigungsseite

page-confirm-title = Bestätigen: { $action }
page-button-heartbeat = Heartbeat senden
page-button-confirm = Bestätigen: { $action }
page-field-action = Aktion
page-field-expires = Link gültig bis
page-signed-in-as = Angemeldet als { $who }
page-comment = Kommentar
page-comment-optional = Kommentar (optional)
page-comment-limit = (höchstens { $max } Zeichen)

## Übersichtsseite

page-review-title = Prüfen und entscheiden
page-review-named-approvers = Einige Optionen sind benannten Genehmigenden vorbehalten.
page-sign-in-to-continue = Anmelden und fortfahren
page-choice-sign-in-first = Nur benannte Genehmigende können dies wählen: Bitte melden Sie sich zuerst an.
page-refusal-not-an-approver = { $who } gehört nicht zu den Genehmigenden.
page-refusal-requester = { $who } hat diese Entscheidung angefragt, daher muss jemand anderes sie treffen.
page-refusal-someone = Die angemeldete Person

## Anmeldeseite

page-sign-in-lead = Diese Anfrage ist für benannte Genehmigende. Melden Sie sich an, um zu sehen, als wer Sie angemeldet sind, und bestätigen Sie dann.
page-sign-in-lead-open = Diese Anfrage ist für benannte Genehmigende. Melden Sie sich an, um zu sehen, als wer Sie angemeldet sind, und bestätigen Sie dann. Sie wartet noch auf eine Antwort.

## Link einer POST-Aktion im Browser

page-systems-title = Dieser Link ist für Systeme
page-systems-lead = Die Aktion { $action } wird von einem Programm beantwortet, das einen POST mit JSON-Inhalt an diese URL sendet. Im Browser geöffnet, bewirkt sie nichts.

## Nach der Antwort

page-accepted-title = Antwort angenommen!
page-accepted-lead = Ihre Antwort { $response } wurde gespeichert. Sie können diese Seite schließen.
page-your-comment = Ihr Kommentar:
page-transaction = Transaktion { $id }
page-support = Für den Support: Aktion { $action } ({ $type })
page-support-transaction = Für den Support: Aktion { $action } ({ $type }), Transaktion { $id }
page-requested-by = Angefragt von { $who }

## Fehlerseiten

error-already-answered-title = Diese Anfrage wurde bereits beantwortet
error-already-answered-advice = Jemand hat bereits geantwortet, oder die Aufgabe ist beendet oder abgelaufen. Es wurde nichts geändert.
error-expired-title = Dieser Link ist abgelaufen
error-expired-advice = Bitten Sie die Person, die ihn gesendet hat, um einen neuen. Es wurde nichts geändert.
error-expired-when = Er ist am { $when } abgelaufen.
error-invalid-link-title = Dieser Link ist ungültig
error-invalid-link-advice = Er wurde womöglich unterwegs gekürzt oder verändert. Öffnen Sie die ursprüngliche Nachricht und verwenden Sie den vollständigen Link. Es wurde nichts geändert.
error-busy-title = Bitte versuchen Sie es gleich noch einmal
error-busy-advice = Der Dienst konnte AWS gerade nicht erreichen. Ihr Link funktioniert weiterhin: Gehen Sie zurück und drücken Sie die Schaltfläche erneut.
error-slack-busy-advice = Slack konnte gerade nicht sagen, wer gedrückt hat; deshalb wurde nichts gesendet. Drücken Sie die Schaltfläche gleich noch einmal.
error-provider-busy-advice = Der Anmeldedienst war gerade nicht erreichbar; deshalb wurde nichts gesendet. Ihr Link funktioniert weiterhin: Öffnen Sie ihn gleich noch einmal.
error-too-many-title = Zu viele Anfragen
error-too-many-advice = Von diesem Browser kamen in kurzer Zeit zu viele Anfragen. Es wurde nichts geändert. Warten Sie eine Minute und öffnen Sie den Link dann erneut.
error-bad-comment-title = Bitte prüfen Sie Ihren Kommentar
error-bad-comment-advice = Gehen Sie zurück, ändern Sie den Kommentar und senden Sie ihn erneut. Es wurde nichts geändert.
error-bad-form-title = Bitte prüfen Sie das Formular
error-not-an-approver-title = Sie können diese Anfrage nicht beantworten
error-not-an-approver-advice = Dieser Link ist für benannte Genehmigende, und die angemeldete Person darf ihn nicht beantworten. Es wurde nichts geändert.
error-sign-in-required-title = Bitte melden Sie sich zuerst an
error-sign-in-required-advice = Dieser Link ist für benannte Genehmigende. Öffnen Sie ihn erneut, um sich anzumelden. Es wurde nichts geändert.
error-sign-in-failed-title = Die Anmeldung wurde nicht abgeschlossen
error-sign-in-failed-advice = Es wurde nichts geändert. Öffnen Sie den Link aus der ursprünglichen Nachricht erneut, um es noch einmal zu versuchen.
error-rejected-title = Antwort abgelehnt
error-rejected-advice = Es wurde nichts geändert.
error-sign-out = Abmelden und ein anderes Konto verwenden
error-details = Für den Support: { $message } ({ $code }, { $status })

## Formulare

form-optional = (optional)
form-correct-fields = Ihre Antwort wurde nicht gesendet: Bitte korrigieren Sie die unten markierten Felder und drücken Sie dann erneut auf die Schaltfläche.
form-fields-to-change =
    { $count ->
        [one] Ein Feld muss geändert werden.
       *[other] { $count } Felder müssen geändert werden.
    }
form-yes = Ja
form-no = Nein
form-choose = Bitte wählen…
form-required = Dieses Feld ist erforderlich.
form-sent-twice = Dieses Feld wurde mehrfach gesendet.
form-whole-number = Muss eine ganze Zahl sein.
form-number = Muss eine Zahl sein.
form-min-length = Muss mindestens { $min } Zeichen lang sein.
form-max-length = Darf höchstens { $max } Zeichen lang sein.
form-pattern = Hat nicht die erwartete Form.
form-choice = Muss eine der Auswahlmöglichkeiten sein.
form-email = Muss eine E-Mail-Adresse sein.
form-date = Muss ein Datum sein (JJJJ-MM-TT).
form-date-time = Muss ein Datum mit Uhrzeit und Zeitversatz sein.
form-uri = Muss eine absolute Adresse sein (https://...).
form-minimum = Muss mindestens { $min } sein.
form-maximum = Darf höchstens { $max } sein.
form-multiple-of = Muss ein Vielfaches von { $step } sein.
form-boolean = Muss wahr oder falsch sein.
form-text = Muss Text sein.
form-unfit = Passt nicht zum Formular ({ $keyword }).
form-unknown-field = „{ $name }“ ist kein Feld dieses Formulars.
form-values-unfit = Die Werte passen nicht zum Formular ({ $keyword }).
form-not-an-object = Die Werte des Formulars müssen ein JSON-Objekt sein.
form-not-taken = Diese Aktion hat kein Formular.

## Standardbenachrichtigung

notify-subject = Ihre Entscheidung wird benötigt
notify-waiting = Ein Workflow wartet auf Ihre Entscheidung.
notify-review = Prüfen und entscheiden
notify-expires = Diese Links sind gültig bis { $expiration }.

## Slack

slack-decided = { $action } gewählt von { $who } · { $when }
slack-modal-title = Ihre Antwort
slack-modal-send = Senden
slack-modal-cancel = Abbrechen
slack-unconfirmed = Der Workflow hat die Antwort nicht rechtzeitig bestätigt; sie wurde vielleicht erfasst, vielleicht nicht. Drücken Sie die Schaltfläche erneut, um es herauszufinden: Eine Antwort wird nie zweimal erfasst.
slack-not-a-link = Diese Schaltfläche enthält keinen Link, den dieser Dienst öffnen kann. Es wurde nichts geändert.
slack-heartbeat-sent = Heartbeat gesendet: Der Workflow weiß, dass an der Aufgabe noch gearbeitet wird. Es wurde nichts entschieden.
