# As páginas, páginas de erro, mensagens de formulário e notificações padrão
# em português do Brasil. As mesmas mensagens e variáveis de en.ftl; apenas
# texto.

## Selos

badge-awaiting = Aguardando resposta
badge-confirm = Confirme, por favor
badge-sign-in-needed = Login necessário
badge-for-systems = Para sistemas
badge-done = Concluído
badge-already-answered = Já respondida
badge-expired = Expirado
badge-invalid-link = Link inválido
badge-busy = Ocupado
badge-not-sent = Não enviado
badge-not-allowed = Não permitido
badge-not-signed-in = Sem login

## Antes de agir

lead-open = Esta solicitação ainda aguarda uma resposta. Confira os detalhes e depois pressione o botão.
lead-open-choices = Esta solicitação ainda aguarda uma resposta. Confira os detalhes e depois pressione o botão da sua escolha.
lead-unknown = Confira os detalhes e depois pressione o botão. Se a solicitação já tiver sido respondida ou encerrada, a próxima página vai informar isso e nada será alterado.
lead-unknown-choices = Confira os detalhes e depois pressione o botão da sua escolha. Se a solicitação já tiver sido respondida ou encerrada, a próxima página vai informar isso e nada será alterado.

## Página de confirmação

page-confirm-title = Confirmar: { $action }
page-button-heartbeat = Enviar um heartbeat
page-button-confirm = Confirmar: { $action }
page-field-action = Ação
page-field-expires = O link expira em
page-signed-in-as = Conectado como { $who }
page-comment = Comentário
page-comment-optional = Comentário (opcional)
page-comment-limit =
    { $max ->
        [one] (até { $max } caractere)
       *[other] (até { $max } caracteres)
    }

## Página de revisão

page-review-title = Revisar e decidir
page-review-named-approvers = Algumas opções são apenas para aprovadores designados.
page-sign-in-to-continue = Fazer login para continuar
page-choice-sign-in-first = Somente aprovadores designados podem escolher esta opção: faça login primeiro.
page-refusal-not-an-approver = { $who } não está entre os aprovadores.
page-refusal-requester = { $who } pediu esta decisão, então outra pessoa precisa tomá-la.
page-refusal-someone = A pessoa conectada

## Página de login

page-sign-in-lead = Esta solicitação é para aprovadores designados. Faça login para ver com qual conta você está conectado e depois confirme.
page-sign-in-lead-open = Esta solicitação é para aprovadores designados. Faça login para ver com qual conta você está conectado e depois confirme. Ela ainda aguarda uma resposta.

## Link de uma ação POST aberto em um navegador

page-systems-title = Este link é para sistemas
page-systems-lead = A ação { $action } é respondida por um programa que envia um POST com um corpo JSON para esta URL. Abri-la em um navegador não tem efeito.

## Depois da resposta

page-accepted-title = Resposta aceita!
page-accepted-lead = Sua resposta { $response } foi registrada. Você pode fechar esta página.
page-your-comment = Seu comentário:
page-transaction = Transação { $id }
page-support = Para o suporte: ação { $action } ({ $type })
page-support-transaction = Para o suporte: ação { $action } ({ $type }), transação { $id }
page-requested-by = Solicitado por { $who }

## Páginas de erro

error-already-answered-title = Esta solicitação já foi respondida
error-already-answered-advice = Alguém já respondeu, ou a tarefa terminou ou expirou. Nada foi alterado.
error-expired-title = Este link expirou
error-expired-advice = Peça um novo link a quem enviou este. Nada foi alterado.
error-expired-when = Ele expirou em { $when }.
error-invalid-link-title = Este link não é válido
error-invalid-link-advice = Ele pode ter sido cortado ou alterado no caminho. Abra a mensagem original e use o link completo. Nada foi alterado.
error-busy-title = Tente novamente em instantes
error-busy-advice = O serviço não conseguiu acessar a AWS agora. Seu link continua funcionando: volte e pressione o botão novamente.
error-slack-busy-advice = O Slack não conseguiu informar quem pressionou agora, então nada foi enviado. Pressione o botão novamente em instantes.
error-provider-busy-advice = Não foi possível acessar o serviço de login agora, então nada foi enviado. Seu link continua funcionando: abra-o novamente em instantes.
error-too-many-title = Muitas solicitações
error-too-many-advice = Este navegador fez muitas solicitações em pouco tempo. Nada foi alterado. Aguarde um minuto e abra o link novamente.
error-bad-comment-title = Confira seu comentário
error-bad-comment-advice = Volte, altere o comentário e envie novamente. Nada foi alterado.
error-bad-form-title = Confira o formulário
error-not-an-approver-title = Você não pode responder a esta solicitação
error-not-an-approver-advice = Este link é para aprovadores designados, e a pessoa conectada não pode respondê-lo. Nada foi alterado.
error-sign-in-required-title = Faça login primeiro
error-sign-in-required-advice = Este link é para aprovadores designados. Abra-o novamente para fazer login. Nada foi alterado.
error-sign-in-failed-title = O login não foi concluído
error-sign-in-failed-advice = Nada foi alterado. Abra novamente o link da mensagem original para tentar outra vez.
error-rejected-title = Resposta recusada
error-rejected-advice = Nada foi alterado.
error-sign-out = Sair e usar outra conta
error-details = Para o suporte: { $message } ({ $code }, { $status })

## Formulários

form-optional = (opcional)
form-correct-fields = Sua resposta não foi enviada: corrija os campos marcados abaixo e pressione o botão novamente.
form-fields-to-change =
    { $count ->
        [one] { $count } campo precisa ser alterado.
       *[other] { $count } campos precisam ser alterados.
    }
form-yes = Sim
form-no = Não
form-choose = Escolha…
form-required = Este campo é obrigatório.
form-sent-twice = Este campo foi enviado mais de uma vez.
form-whole-number = Deve ser um número inteiro.
form-number = Deve ser um número.
form-min-length =
    { $min ->
        [one] Deve ter pelo menos { $min } caractere.
       *[other] Deve ter pelo menos { $min } caracteres.
    }
form-max-length =
    { $max ->
        [one] Deve ter no máximo { $max } caractere.
       *[other] Deve ter no máximo { $max } caracteres.
    }
form-pattern = Não está no formato esperado.
form-choice = Deve ser uma das opções.
form-email = Deve ser um endereço de e-mail.
form-date = Deve ser uma data (AAAA-MM-DD).
form-date-time = Deve ser uma data e hora com o deslocamento de fuso horário.
form-uri = Deve ser um endereço absoluto (https://...).
form-minimum = Deve ser no mínimo { $min }.
form-maximum = Deve ser no máximo { $max }.
form-multiple-of = Deve ser um múltiplo de { $step }.
form-boolean = Deve ser verdadeiro ou falso.
form-text = Deve ser texto.
form-unfit = Não corresponde ao formulário ({ $keyword }).
form-unknown-field = “{ $name }” não é um campo deste formulário.
form-values-unfit = Os valores não correspondem ao formulário ({ $keyword }).
form-not-an-object = Os valores do formulário devem ser um objeto JSON.
form-not-taken = Esta ação não tem formulário.

## Notificação padrão

notify-subject = Sua decisão é necessária
notify-waiting = Um fluxo de trabalho aguarda sua decisão.
notify-review = Revisar e decidir
notify-expires = Estes links deixam de funcionar em { $expiration }.

## Slack

slack-decided = { $action } escolhido por { $who } · { $when }
slack-modal-title = Sua resposta
slack-modal-send = Enviar
slack-modal-cancel = Cancelar
slack-unconfirmed = O fluxo de trabalho não confirmou a resposta a tempo, então ela pode ou não ter sido registrada. Pressione o botão de novo para saber: uma resposta nunca é registrada duas vezes.
slack-not-a-link = Este botão não contém um link que este serviço possa abrir. Nada foi alterado.
slack-heartbeat-sent = Heartbeat enviado: o fluxo de trabalho sabe que a tarefa ainda está em andamento. Nada foi decidido.
