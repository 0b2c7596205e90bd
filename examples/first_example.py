"""The README's first example: a logistic-regression layer, its loss and its gradients."""
from tinygrad_edu import Tensor

x = Tensor([[1.0, 2.0], [3.0, 4.0]])
w = Tensor([[0.5], [-1.0]], requires_grad=True)
b = Tensor([0.1], requires_grad=True)

y = (x @ w + b).sigmoid()          # a tiny logistic-regression layer
loss = ((y - 1.0) ** 2).mean()     # MSE against the target 1
loss.backward()

print(loss)
print(w.grad)
print(b.grad)
